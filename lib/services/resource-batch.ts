// tctl create -f FILE: every document of the file is checked (schema, role names, what exists,
// the caller's rules) before the first write, so a bad file changes nothing. The store has no
// transactions across items, so the writes that follow are made as close to all-or-nothing as it
// allows: each one is conditional on the revision read during the checks, and when one fails the
// ones already made are put back (conditionally too) and the answer says exactly what happened.
import { ADMIN_USER } from '../core/user-standing.js';
import { ConflictError, KubeportError } from '../core/errors.js';
import type { CertifiedIdentity } from '../core/identity.js';
import type { StoredResource } from '../core/ports.js';
import { nearestName } from '../core/nearest-name.js';
import { KUBE_CLUSTER_STATUS_KIND } from '../core/kube-cluster-health.js';
import { STATUS_KIND_READ_ONLY, withoutStatusBlock } from '../core/kube-cluster-status-block.js';
import { type CheckedDocument, type ResourceProblem, checkDocument, describeProblem } from '../core/resource-problems.js';
import { CLIENT_SECRET_FROM_DEPLOYMENT, type GitHubConnector, type StoredGitHubConnector } from '../core/github-connector.js';
import type { Lock } from '../core/lock.js';
import type { ResourceKind, User } from '../core/resources.js';
import { isResourceKind } from '../core/resources.js';
import { roleReferences } from '../core/role-references.js';
import { builtinRoles } from '../core/builtin-roles.js';
import { authorize } from './admin-authorization.js';
import { auditEvent, changeEventName } from './audit-events.js';
import type { ServiceDeps } from './deps.js';
import { sealConnectorSecret } from './github-connectors.js';
import { LocalUsers } from './local-users.js';
import { lockAuditFields, lockToStore, removeExpiredLocks } from './locks.js';
import { listRoles } from './roles.js';
import { userToStore } from './user-records.js';

export interface CreateRequest {
  documents: unknown[];
  /** The file name, for messages. */
  source: string;
  /** --force: replace what exists. */
  overwrite: boolean;
}

export interface CreatedResource {
  kind: ResourceKind;
  name: string;
  created: boolean;
}

interface Planned {
  index: number;
  kind: ResourceKind;
  name: string;
  resource: unknown;
  existing: StoredResource<unknown> | undefined;
  /** Something of the name was there before: stored, or a built-in role. */
  replaces: boolean;
}

interface Written {
  planned: Planned;
  revision: string;
}

const label = (p: { kind: string; name: string }) => `${p.kind} "${p.name}"`;

export async function createResources(deps: ServiceDeps, caller: CertifiedIdentity, request: CreateRequest): Promise<CreatedResource[]> {
  // A kube_cluster's status block is what tctl get adds; it is the agents' to write, so it is dropped.
  const documents = request.documents.map(withoutStatusBlock);
  const checked = documents.map((document, index) => agentWrittenKind(document, index) ?? checkDocument(document, index));
  // Authorization depends only on the kinds and --force, so a caller without the rules learns
  // nothing about what exists. --force may replace, so it needs update as well (as Teleport's upsert).
  const kinds = new Set(checked.flatMap((c) => (c.kind && isResourceKind(c.kind) ? [c.kind] : [])));
  const verbs = request.overwrite ? (['create', 'update'] as const) : (['create'] as const);
  await authorize(
    deps.resources,
    caller,
    [...kinds].flatMap((kind) => verbs.map((verb) => [kind, verb] as const)),
  );

  const problems: ResourceProblem[] = checked.flatMap((c) => (c.ok ? [] : c.problems));
  const valid = checked.flatMap((c, index) => (c.ok ? [{ index, kind: c.kind, name: c.name, resource: c.resource }] : []));
  const invalid = (index: number, kind: string, name: string, path: ResourceProblem['path'], message: string): ResourceProblem => ({
    document: index,
    kind,
    name,
    path,
    message,
    reason: 'invalid',
  });

  // Duplicates count among all documents that have a kind and a name, valid or not.
  const seen = new Map<string, number>();
  checked.forEach((c, index) => {
    if (!c.kind || !c.name) return;
    const key = `${c.kind}/${c.name}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else
      problems.push(invalid(index, c.kind, c.name, ['metadata', 'name'], `also document ${first + 1}; a file may hold each resource once`));
  });

  // Roles a document may name: stored, built in, or created by this same file (even one with
  // problems of its own, so a typo in it is reported once, not again at every user naming it).
  const roleNames = new Set((await listRoles(deps.resources)).map((r) => r.metadata.name));
  for (const c of checked) if (c.kind === 'role' && c.name) roleNames.add(c.name);
  for (const doc of valid) {
    for (const reference of roleReferences(doc.kind, doc.resource)) {
      if (roleNames.has(reference.role)) continue;
      const near = nearestName(reference.role, roleNames);
      const fix = near ? `did you mean ${near}? ` : '';
      problems.push(
        invalid(
          doc.index,
          doc.kind,
          doc.name,
          reference.path,
          `role "${reference.role}" does not exist; ${fix}create it first or in this file (roles: ${[...roleNames].sort().join(', ')})`,
        ),
      );
    }
  }

  const planned: Planned[] = [];
  for (const doc of valid) {
    const existing = await deps.resources.get(doc.kind, doc.name);
    const builtin = doc.kind === 'role' && builtinRoles.some((r) => r.metadata.name === doc.name);
    if ((existing || builtin) && !request.overwrite) {
      const what = existing ? 'already exists' : 'is a built-in role';
      problems.push({
        ...invalid(doc.index, doc.kind, doc.name, ['metadata', 'name'], `${label(doc)} ${what}; add --force to replace it`),
        reason: 'exists',
      });
    }
    if (doc.kind === 'user' && doc.name === ADMIN_USER) {
      problems.push(
        invalid(
          doc.index,
          doc.kind,
          doc.name,
          ['metadata', 'name'],
          `${ADMIN_USER} is the name of the local admin identity and reserved; choose another user name`,
        ),
      );
    }
    if (doc.kind === 'github' && lacksSecret(doc.resource as GitHubConnector, existing?.body as StoredGitHubConnector | undefined)) {
      problems.push(
        invalid(
          doc.index,
          doc.kind,
          doc.name,
          ['spec', 'client_secret'],
          `${existing ? 'the' : 'a new'} connector needs its OAuth app's client secret (or client_secret_source: ${CLIENT_SECRET_FROM_DEPLOYMENT} for the deployment's)`,
        ),
      );
    }
    planned.push({ ...doc, existing, replaces: existing !== undefined || builtin });
  }

  if (problems.length > 0) {
    problems.sort((a, b) => a.document - b.document);
    const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    const lines = problems.map((p) => describeProblem(request.source, p));
    throw new KubeportError(
      problems.every((p) => p.reason === 'exists') ? 'conflict' : 'bad_request',
      `${request.source} has ${count}; nothing was changed:\n${lines.join('\n')}`,
      { details: problems },
    );
  }
  if (planned.length === 0) throw new KubeportError('bad_request', `${request.source} holds no resource; nothing was changed`);

  // Roles first: a user or connector of the file must never be stored naming a role not yet there.
  const order = [...planned].sort((a, b) => Number(b.kind === 'role') - Number(a.kind === 'role') || a.index - b.index);
  // Bodies are made before the first write (sealing a secret can fail), so a failure here changes nothing.
  const bodies = new Map<Planned, unknown>();
  for (const item of order) bodies.set(item, await prepare(deps, caller, item));
  const written: Written[] = [];
  for (const item of order) {
    try {
      const body = bodies.get(item);
      const stored = await deps.resources.put(item.kind, item.name, body, { expectRevision: item.existing?.revision ?? null });
      written.push({ planned: item, revision: stored.revision });
    } catch (error) {
      throw await rollBack(deps, request.source, item, error, written);
    }
  }

  const localUsers = new LocalUsers(deps);
  for (const item of planned) {
    // A new user of the name starts without what an earlier one left behind.
    if (item.kind === 'user' && !item.existing) await localUsers.forget(item.name);
    const event = changeEventName(item.kind, item.replaces ? 'update' : 'create');
    if (event) {
      const extra =
        item.kind === 'user'
          ? { roles: (item.resource as User).spec.roles }
          : item.kind === 'lock'
            ? lockAuditFields(bodies.get(item) as Lock, caller)
            : {};
      await deps.audit.emit(auditEvent(deps, event, { user: caller.username, kind: item.kind, name: item.name, ...extra }));
    }
  }
  // Expired locks lock nobody; the next lock written takes them away.
  if (planned.some((item) => item.kind === 'lock')) await removeExpiredLocks(deps);
  return planned.map((p) => ({ kind: p.kind, name: p.name, created: !p.replaces }));
}

/** A kube_cluster_status document: refused by name, never stored (only agents write statuses). */
function agentWrittenKind(document: unknown, index: number): CheckedDocument | undefined {
  if (typeof document !== 'object' || document === null || (document as { kind?: unknown }).kind !== KUBE_CLUSTER_STATUS_KIND)
    return undefined;
  const rawName = (document as { metadata?: { name?: unknown } }).metadata?.name;
  const name = typeof rawName === 'string' && rawName !== '' ? rawName : undefined;
  return {
    ok: false,
    kind: KUBE_CLUSTER_STATUS_KIND,
    ...(name ? { name } : {}),
    problems: [
      {
        document: index,
        kind: KUBE_CLUSTER_STATUS_KIND,
        ...(name ? { name } : {}),
        path: ['kind'],
        message: STATUS_KIND_READ_ONLY,
        reason: 'invalid',
      },
    ],
  };
}

/**
 * The body to store: users get the server's incarnation and revocation time; a GitHub connector's
 * client secret is sealed, never stored in the clear (left out on update, the stored one stays);
 * a lock gets its creation time and author.
 */
async function prepare(deps: ServiceDeps, caller: CertifiedIdentity, item: Planned): Promise<unknown> {
  if (item.kind === 'lock') return lockToStore(deps, caller, item.resource as Lock);
  if (item.kind === 'user') return userToStore(deps, item.resource as User, item.existing?.body as User | undefined);
  if (item.kind === 'github') {
    return sealConnectorSecret(deps, item.resource as GitHubConnector, item.existing?.body as StoredGitHubConnector | undefined);
  }
  return item.resource;
}

/** A connector that neither brings a secret nor keeps a stored one, nor takes the deployment's. */
function lacksSecret(connector: GitHubConnector, existing: StoredGitHubConnector | undefined): boolean {
  const spec = connector.spec;
  return spec.client_secret === undefined && spec.client_secret_source === undefined && existing?.spec.client_secret_sealed === undefined;
}

/** Puts back what the batch wrote before `failed`, newest first; the error says what stands. */
async function rollBack(deps: ServiceDeps, source: string, failed: Planned, cause: unknown, written: Written[]): Promise<KubeportError> {
  const restored: string[] = [];
  const stuck: string[] = [];
  for (const { planned, revision } of [...written].reverse()) {
    try {
      if (planned.existing) {
        await deps.resources.put(planned.kind, planned.name, planned.existing.body, { expectRevision: revision });
      } else {
        await deps.resources.delete(planned.kind, planned.name, { expectRevision: revision });
      }
      restored.push(label(planned));
    } catch {
      stuck.push(label(planned));
    }
  }
  const why = cause instanceof ConflictError ? 'it was changed by someone else meanwhile' : 'the store failed';
  const undone = restored.length > 0 ? `; put back as they were: ${restored.join(', ')}` : '';
  const left =
    stuck.length > 0
      ? `; could NOT put back ${stuck.join(', ')}, which now stand as ${source} says (check them with tctl get)`
      : '; nothing was changed';
  const message = `writing ${label(failed)} (document ${failed.index + 1} of ${source}) failed: ${why}${undone}${left}; run tctl create again`;
  return new KubeportError(cause instanceof ConflictError ? 'conflict' : 'internal', message, { cause });
}
