// The deployment's GitHub connector, written by the CA bootstrap at each deploy. The deployment
// owns the connector only while it is what the deployment last wrote: a connector an admin has
// changed (or one that was there before the deployment's) is kept as it is, so a redeploy never
// undoes an admin's edits; one the admin deleted is created again (its settings are still in the
// stack's context; removing them there is how an admin says "no deploy-time connector").
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

/**
 * Writes `desired` as the connector unless an admin owns it. `previous` is what the deployment
 * before this one asked for (CloudFormation's OldResourceProperties), undefined on a first deploy.
 */
export async function applyDeploymentConnector(
  deps: DeploymentConnectorDeps,
  desired: GitHubConnector,
  previous: GitHubConnector | undefined,
): Promise<ConnectorOutcome> {
  const name = DEPLOYMENT_CONNECTOR_NAME;
  const existing = await deps.resources.get<GitHubConnector>('github', name);
  if (existing && sameJson(existing.body, desired)) return 'unchanged';
  if (existing && (previous === undefined || !sameJson(existing.body, previous))) return 'kept';
  try {
    await deps.resources.put('github', name, desired, { expectRevision: existing?.revision ?? null });
  } catch (error) {
    // Someone wrote it since it was read: theirs stands.
    if (error instanceof ConflictError) return 'kept';
    throw error;
  }
  const event = existing ? 'github.updated' : 'github.created';
  await deps.audit.emit(auditEvent(deps, event, { user: DEPLOYMENT_USER, kind: 'github', name }));
  return existing ? 'updated' : 'created';
}

/** Equal as JSON says it (the store keeps bodies as JSON text; key order does not matter). */
function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}
