// Who a user may be on a cluster: Teleport's CheckKubeGroupsAndUsers and
// computeImpersonatedPrincipals, over roles as they are now.
import { compileRole } from './compiled-role.js';
import { type KubeportError, accessDenied, notFound } from './errors.js';
import type { Identity, Traits } from './identity.js';
import type { Role } from './role-schema.js';
import { expandTemplates } from './trait-templates.js';

export { checkSessionTtl, sessionTtl, roleMaxSessionTtls, DEFAULT_MAX_SESSION_TTL_MS } from './session-ttl.js';
export { checkKubeResourceAccess } from './kube-resource-access.js';

export interface KubePrincipals {
  users: string[];
  groups: string[];
}

export interface ClusterView {
  name: string;
  labels: Record<string, string>;
}

const AUTHENTICATED_GROUP = 'system:authenticated';

/**
 * True when a role lets the user see the cluster at all (used by tsh kube ls and the agent). A deny
 * side whose labels match refuses the whole cluster only when it lists no kubernetes_resources;
 * with resources it refuses just those (kube-resource-access.ts).
 */
export function clusterAllowed(roles: Role[], cluster: ClusterView, traits: Traits = {}): boolean {
  const compiled = roles.map(compileRole);
  const allowed = compiled.some((role) => role.allowLabels(cluster.labels, traits));
  const denied = compiled.some((role) => role.deniesWholeCluster && role.denyLabels(cluster.labels, traits));
  return allowed && !denied;
}

/** The answer for a cluster that is not registered or that the roles hide: the same words for both. */
export function clusterNotFound(name: string): KubeportError {
  return notFound(`kubernetes cluster "${name}" not found; tsh kube ls lists the clusters you may reach`);
}

/** The Kubernetes users and groups the roles grant on a visible cluster, or a denial that names why. */
export function kubePrincipals(identity: Identity, roles: Role[], cluster: ClusterView): KubePrincipals {
  const missing = identity.roles.filter((name) => !roles.some((role) => role.metadata.name === name));
  if (missing.length === identity.roles.length) {
    throw accessDenied(`none of your roles (${identity.roles.join(', ') || 'none'}) exist any more; ask an admin, then run tsh login`);
  }
  // A cluster the roles do not let the user see answers exactly as one that does not exist (as
  // Teleport's): naming its labels (with discovery, all its AWS tags) or even that it exists
  // would tell users about clusters hidden from them.
  if (!clusterAllowed(roles, cluster, identity.traits)) throw clusterNotFound(cluster.name);
  const users = new Set<string>();
  const groups = new Set<string>();
  for (const role of roles) {
    if (!compileRole(role).allowLabels(cluster.labels, identity.traits)) continue;
    expandTemplates(role.spec.allow.kubernetes_users, identity.traits).forEach((u) => users.add(u));
    expandTemplates(role.spec.allow.kubernetes_groups, identity.traits).forEach((g) => groups.add(g));
  }
  for (const role of roles) {
    // A deny side without label matchers takes its principals away on every cluster.
    if (!compileRole(role).denyLabels(cluster.labels, identity.traits)) continue;
    expandTemplates(role.spec.deny.kubernetes_users, identity.traits).forEach((u) => users.delete(u));
    expandTemplates(role.spec.deny.kubernetes_groups, identity.traits).forEach((g) => groups.delete(g));
  }
  if (users.size === 0 && groups.size === 0) {
    throw accessDenied(
      `your roles (${identity.roles.join(', ')}) grant no Kubernetes user or group on cluster "${cluster.name}"; ask an admin to set kubernetes_groups or kubernetes_users for you`,
    );
  }
  return { users: [...users].sort(), groups: [...groups].sort() };
}

export interface ImpersonationRequest {
  /** Impersonate-User values the client sent (kubectl --as). */
  users: string[];
  /** Impersonate-Group values the client sent (kubectl --as-group). */
  groups: string[];
}

/** What the agent sends upstream, given what the client asked for with --as / --as-group. */
export function resolveImpersonation(username: string, granted: KubePrincipals, asked: ImpersonationRequest): KubePrincipals {
  const allowedUsers = granted.users.length > 0 ? granted.users : [username];
  const allowedGroups = [...new Set([...granted.groups, AUTHENTICATED_GROUP])];
  const askedUsers = asked.users.filter((user) => user !== '');
  if (askedUsers.length > 1) throw accessDenied('impersonation request has been denied: only one Impersonate-User header is allowed');
  let user: string;
  if (askedUsers.length === 1) {
    user = askedUsers[0]!;
    if (!allowedUsers.includes(user)) {
      throw accessDenied(
        `impersonation request has been denied: your roles do not allow kubectl --as ${user} (allowed: ${allowedUsers.join(', ')})`,
      );
    }
  } else if (allowedUsers.length === 1) {
    user = allowedUsers[0]!;
  } else {
    throw accessDenied(`please select a user to impersonate with kubectl --as; your roles allow: ${allowedUsers.join(', ')}`);
  }
  let groups = allowedGroups;
  if (asked.groups.length > 0) {
    for (const group of asked.groups) {
      if (!allowedGroups.includes(group)) {
        throw accessDenied(
          `impersonation request has been denied: your roles do not allow kubectl --as-group ${group} (allowed: ${allowedGroups.join(', ')})`,
        );
      }
    }
    groups = [...new Set(asked.groups)];
  }
  return { users: [user], groups };
}
