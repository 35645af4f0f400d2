// The deployment's GitHub connector, written by the CA bootstrap at each deploy. The deployment
// owns the connector only while it is what the deployment last wrote: a connector an admin has
// changed (or one that was there before the deployment's) is kept as it is, so a redeploy never
// undoes an admin's edits; one the admin deleted is created again (its settings are still in the
// stack's context; removing them there is how an admin says "no deploy-time connector").
// What the deployment last wrote is told by the connector itself (a label holding the digest of
// the spec it wrote), not by what CloudFormation's event says the previous deploy asked for: the
// event is only as trustworthy as whoever may invoke the function.
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ConflictError } from '../core/errors.js';
import { DEPLOYMENT_CONNECTOR_NAME, DEPLOYMENT_USER } from '../core/deployment-connector.js';
import type { GitHubConnector } from '../core/github-connector.js';
import type { AuditLog, Clock, Random, ResourceStore } from '../core/ports.js';
import { auditEvent } from './audit-events.js';

export interface DeploymentConnectorDeps {
  resources: ResourceStore;
  audit: AuditLog;
  clock: Clock;
  random: Random;
}

/**
 * created: there was none; updated: it was the previous deployment's and the settings changed;
 * unchanged: it is already what the settings say; kept: an admin's connector, left as it is.
 */
export type ConnectorOutcome = 'created' | 'updated' | 'unchanged' | 'kept';

/** The label on the deployment's connector: the digest of the spec the deployment wrote. */
export const DEPLOYMENT_DIGEST_LABEL = 'kubeport/deployment-spec-sha256';

/** Writes `desired` as the connector unless an admin owns it. */
export async function applyDeploymentConnector(deps: DeploymentConnectorDeps, desired: GitHubConnector): Promise<ConnectorOutcome> {
  const name = DEPLOYMENT_CONNECTOR_NAME;
  const stamped = {
    ...desired,
    metadata: { ...desired.metadata, labels: { ...desired.metadata.labels, [DEPLOYMENT_DIGEST_LABEL]: specDigest(desired) } },
  };
  const existing = await deps.resources.get<GitHubConnector>('github', name);
  if (existing && sameJson(existing.body, stamped)) return 'unchanged';
  if (existing && !writtenByDeployment(existing.body)) return 'kept';
  try {
    await deps.resources.put('github', name, stamped, { expectRevision: existing?.revision ?? null });
  } catch (error) {
    // Someone wrote it since it was read: theirs stands.
    if (error instanceof ConflictError) return 'kept';
    throw error;
  }
  const event = existing ? 'github.updated' : 'github.created';
  await deps.audit.emit(auditEvent(deps, event, { user: DEPLOYMENT_USER, kind: 'github', name }));
  return existing ? 'updated' : 'created';
}

/** Still the spec the deployment wrote: an admin's edit (or a connector of the admin's own) has no matching digest. */
function writtenByDeployment(connector: GitHubConnector): boolean {
  return connector.metadata.labels?.[DEPLOYMENT_DIGEST_LABEL] === specDigest(connector);
}

function specDigest(connector: GitHubConnector): string {
  return createHash('sha256').update(canonicalJson(connector.spec)).digest('hex');
}

/** JSON with object keys sorted, so the digest does not depend on the order a round trip left them in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Equal as JSON says it (the store keeps bodies as JSON text; key order does not matter). */
function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}
