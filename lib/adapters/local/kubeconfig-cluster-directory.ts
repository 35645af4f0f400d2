// Local mode's clusters: labels from the kube_cluster resources as they are now, upstream
// address and credentials from the kubeconfig that npm start was given.
import type { ClusterDirectory, UpstreamCluster } from '../../../agent/upstream.js';
import type { Clock, ResourceStore } from '../../core/ports.js';
import type { KubeCluster } from '../../core/resources.js';
import type { KubeconfigCluster } from './kubeconfig-source.js';

const CACHE_MS = 2_000;

export class KubeconfigClusterDirectory implements ClusterDirectory {
  private readonly byName: Map<string, KubeconfigCluster>;
  private readonly cache = new Map<string, { at: number; value: UpstreamCluster | undefined }>();

  constructor(
    private readonly resources: ResourceStore,
    clusters: KubeconfigCluster[],
    private readonly clock: Clock,
  ) {
    this.byName = new Map(clusters.map((c) => [c.name, c]));
  }

  async resolve(name: string): Promise<UpstreamCluster | undefined> {
    // Only names the kubeconfig has are cached, so random names cannot grow the cache.
    if (!this.byName.has(name)) return undefined;
    const now = this.clock.now().getTime();
    const cached = this.cache.get(name);
    if (cached && now - cached.at < CACHE_MS) return cached.value;
    const source = this.byName.get(name);
    const stored = await this.resources.get<KubeCluster>('kube_cluster', name);
    const value: UpstreamCluster | undefined =
      source !== undefined && stored
        ? {
            name,
            labels: stored.body.metadata.labels ?? {},
            server: source.server,
            tls: source.tls,
            ...(source.token ? { bearerToken: async () => source.token! } : {}),
          }
        : undefined;
    this.cache.set(name, { at: now, value });
    return value;
  }
}
