// May this identity reach this cluster, and as whom? Roles are loaded as they are now (cached briefly).
import { notFound } from '../lib/core/errors.js';
import type { CertifiedIdentity } from '../lib/core/identity.js';
import { type ImpersonationRequest, type KubePrincipals, kubePrincipals, resolveImpersonation } from '../lib/core/kube-access.js';
import type { Role, User } from '../lib/core/resources.js';
import { checkUserStanding } from '../lib/core/user-standing.js';
import type { ClusterDirectory, UpstreamCluster } from '../lib/core/ports.js';

export interface AuthorizeDeps {
  clusters: ClusterDirectory;
  loadRoles(names: string[]): Promise<Role[]>;
  loadUser(name: string): Promise<User | undefined>;
}

export interface Decision {
  cluster: UpstreamCluster;
  principals: KubePrincipals;
}

export async function authorize(
  deps: AuthorizeDeps,
  identity: CertifiedIdentity,
  clusterName: string,
  asked: ImpersonationRequest,
): Promise<Decision> {
  checkUserStanding(identity, await deps.loadUser(identity.username));
  const cluster = await deps.clusters.resolve(clusterName);
  // Same answer for unknown and hidden clusters would hide typos; Teleport says "not found" for both.
  if (!cluster) throw notFound(`kubernetes cluster "${clusterName}" not found; tsh kube ls lists the clusters you may reach`);
  const roles = await deps.loadRoles(identity.roles);
  const granted = kubePrincipals(identity, roles, { name: cluster.name, labels: cluster.labels });
  return { cluster, principals: resolveImpersonation(identity.username, granted, asked) };
}
