// tctl get and tctl rm for every kind: what is stored (roles: with the built-in ones), shown
// without secrets; removal refused where it would leave something broken or cannot stick.
import { builtinRoles } from '../core/builtin-roles.js';
import { ConflictError, badRequest, notFound } from '../core/errors.js';
import type { CertifiedIdentity } from '../core/identity.js';
import { nearestName } from '../core/nearest-name.js';
import { redactResource } from '../core/resource-redaction.js';
import type { Lock } from '../core/lock.js';
import type { KubeCluster, ResourceKind, User } from '../core/resources.js';
import { roleReferences } from '../core/role-references.js';
import { auditEvent, changeEventName } from './audit-events.js';
import type { ServiceDeps } from './deps.js';
import { removeClusterStatus, withStatusBlocks } from './kube-cluster-statuses.js';
import { inForce, lockAuditFields } from './locks.js';
import { listRoles } from './roles.js';

export async function getResources(deps: ServiceDeps, kind: ResourceKind, name?: string): Promise<unknown[]> {
  const stored = async () => (await deps.resources.list<{ metadata: { name: string } }>(kind)).map((r) => r.body);
  const all: { metadata: { name: string } }[] =
    kind === 'role'
      ? await listRoles(deps.resources)
      : kind === 'lock'
        ? inForce((await stored()) as Lock[], deps.clock.now())
        : await stored();
  const chosen = name === undefined ? all : all.filter((r) => r.metadata.name === name);
  if (name !== undefined && chosen.length === 0) throw notFoundWithHint(kind, name, all);
  // A kube_cluster leaves with its read-only status block (what its agent last found).
  const shown = kind === 'kube_cluster' ? await withStatusBlocks(deps, chosen as KubeCluster[]) : chosen;
  return shown.map((body) => redactResource(kind, body));
}

function notFoundWithHint(kind: string, name: string, all: { metadata: { name: string } }[]) {
  const near = nearestName(
    name,
    all.map((r) => r.metadata.name),
  );
  return notFound(`${kind} "${name}" not found; ${near ? `did you mean ${near}? ` : ''}tctl get ${kind} lists them`);
}

/** Removes a resource other than a user (users go through AdminService.removeUser). */
export async function removeResource(
  deps: ServiceDeps,
  caller: CertifiedIdentity,
  kind: Exclude<ResourceKind, 'user'>,
  name: string,
): Promise<{ revertedToBuiltin: boolean }> {
  const builtin = kind === 'role' && builtinRoles.some((r) => r.metadata.name === name);
  const stored = await deps.resources.get(kind, name);
  if (builtin && !stored) {
    throw badRequest(`role "${name}" is built in and cannot be removed; to change what it allows, replace it with tctl create --force`);
  }
  if (!stored)
    throw notFoundWithHint(
      kind,
      name,
      (await deps.resources.list<{ metadata: { name: string } }>(kind)).map((r) => r.body),
    );
  if (kind === 'role' && !builtin) await refuseIfInUse(deps, name);
  if (!(await deps.resources.delete(kind, name, { expectRevision: stored.revision }))) throw notFound(`${kind} "${name}" not found`);
  if (kind === 'kube_cluster') await removeClusterStatus(deps.resources, name);
  const event = changeEventName(kind, 'delete');
  const extra = kind === 'lock' ? lockAuditFields(stored.body as Lock, caller) : {};
  if (event) await deps.audit.emit(auditEvent(deps, event, { user: caller.username, kind, name, ...extra }));
  return { revertedToBuiltin: builtin };
}

/** A role that users, connectors or other roles name stays: removing it would silently take access away. */
async function refuseIfInUse(deps: ServiceDeps, role: string): Promise<void> {
  const users = (await deps.resources.list<User>('user')).filter((u) => u.body.spec.roles.includes(role)).map((u) => u.name);
  const [connectors, roles] = await Promise.all(
    (['github', 'role'] as const).map(async (kind) =>
      (await deps.resources.list(kind)).filter((r) => roleReferences(r.kind, r.body).some((ref) => ref.role === role)).map((r) => r.name),
    ),
  );
  const holders = [
    ...connectors!.map((name) => `connector "${name}"`),
    ...users.map((name) => `user "${name}"`),
    ...roles!.map((name) => `role "${name}"`),
  ];
  if (holders.length === 0) return;
  const shown = holders.slice(0, 5).join(', ') + (holders.length > 5 ? ` and ${holders.length - 5} more` : '');
  // The one name when there is one of a kind, so the command can be run as printed.
  const nameOf = (names: string[]) => (names.length === 1 ? names[0]! : 'NAME');
  const fixes = [
    ...(connectors!.length > 0
      ? [
          `for a connector, tctl get github/${nameOf(connectors!)} > connector.yaml, take "${role}" out of teams_to_roles, then tctl create --force -f connector.yaml`,
        ]
      : []),
    ...(users.length > 0 ? [`for a user, tctl users update ${nameOf(users)} --set-roles=...`] : []),
    ...(roles!.length > 0
      ? [`for a role, tctl get role/${nameOf(roles!)} > role.yaml, take "${role}" out, then tctl create --force -f role.yaml`]
      : []),
  ];
  throw new ConflictError(`role "${role}" is still used by ${shown}; change them first (${fixes.join('; ')}), then remove the role`);
}
