// The health each cluster's agent last wrote (kind kube_cluster_status, name = cluster name), as
// the control plane shows it: in tctl get kube_clusters and in the cluster list tsh reads. Only
// the statuses of the clusters asked for leave here, so an answer never tells a caller about a
// cluster it may not see. Staleness is judged on the injected clock (shownHealth).
import type { CertifiedIdentity } from '../core/identity.js';
import { clusterAllowed } from '../core/kube-access.js';
import { type ClusterHealth, KUBE_CLUSTER_STATUS_KIND } from '../core/kube-cluster-health.js';
import { type KubeClusterStatusBlock, statusBlock } from '../core/kube-cluster-status-block.js';
import type { Clock, ResourceStore } from '../core/ports.js';
import type { KubeCluster } from '../core/resources.js';
import type { ServiceDeps } from './deps.js';
import { loadRoles } from './roles.js';

/**
 * The status blocks of these clusters, in their order (none stored, or unreadable: unknown). One
 * read of the statuses, whatever the number of clusters; only those asked for leave this function.
 */
async function clusterStatuses(
  deps: { resources: ResourceStore; clock: Clock },
  clusters: readonly string[],
): Promise<KubeClusterStatusBlock[]> {
  if (clusters.length === 0) return [];
  const stored = new Map((await deps.resources.list<unknown>(KUBE_CLUSTER_STATUS_KIND)).map((r) => [r.name, r.body]));
  const now = deps.clock.now();
  return clusters.map((name) => statusBlock(asHealth(stored.get(name)), now));
}

/** kube_cluster resources with their read-only status block, for tctl get. */
export async function withStatusBlocks(
  deps: { resources: ResourceStore; clock: Clock },
  clusters: KubeCluster[],
): Promise<(KubeCluster & { status: KubeClusterStatusBlock })[]> {
  const statuses = await clusterStatuses(
    deps,
    clusters.map((c) => c.metadata.name),
  );
  return clusters.map((cluster, i) => ({ ...cluster, status: statuses[i]! }));
}

export interface VisibleCluster {
  name: string;
  labels: Record<string, string>;
  status: KubeClusterStatusBlock['status'];
  reason?: string;
  fix?: string;
}

/** The clusters the caller's roles allow, each with its health (GET /webapi/kube/clusters). */
export async function visibleClusters(deps: ServiceDeps, identity: CertifiedIdentity): Promise<VisibleCluster[]> {
  const roles = await loadRoles(deps.resources, identity.roles);
  const clusters = (await deps.resources.list<KubeCluster>('kube_cluster')).map((r) => r.body);
  const visible = clusters.filter((c) =>
    // Traits, because a role's kubernetes_labels may be templates ({{external.team}}).
    clusterAllowed(roles, { name: c.metadata.name, labels: c.metadata.labels ?? {} }, identity.traits),
  );
  // Statuses are given for the visible clusters only, after the filter.
  const statuses = await clusterStatuses(
    deps,
    visible.map((c) => c.metadata.name),
  );
  return visible.map((c, i) => {
    const block = statuses[i]!;
    return {
      name: c.metadata.name,
      labels: c.metadata.labels ?? {},
      status: block.status,
      ...(block.reason !== undefined ? { reason: block.reason } : {}),
      ...(block.fix !== undefined ? { fix: block.fix } : {}),
    };
  });
}

/** A removed cluster's status goes with it (a cluster of the same name added later starts unknown). */
export async function removeClusterStatus(resources: ResourceStore, cluster: string): Promise<void> {
  await resources.delete(KUBE_CLUSTER_STATUS_KIND, cluster);
}

/** A stored status as the agent writes it; anything else counts as none. */
function asHealth(body: unknown): ClusterHealth | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const h = body as Partial<ClusterHealth>;
  const statusOk = h.status === 'healthy' || h.status === 'unhealthy';
  if (!statusOk || typeof h.checked_at !== 'string' || typeof h.agent !== 'string' || typeof h.cluster !== 'string') return undefined;
  // A reason or fix that is not text is dropped rather than passed on to clients as is.
  const { reason, fix, ...rest } = h;
  return { ...rest, ...(typeof reason === 'string' ? { reason } : {}), ...(typeof fix === 'string' ? { fix } : {}) } as ClusterHealth;
}
