// Local mode's clusters: labels from the kube_cluster resources as they are now, upstream
// address and credentials from the kubeconfig that npm start was given.
import { cachedLoader } from '../../core/fresh-cache.js';
import type { Clock, ClusterDirectory, RegisteredCluster, ResourceStore, UpstreamCluster } from '../../core/ports.js';
import type { KubeCluster } from '../../core/resources.js';
import type { KubeconfigCluster } from './kubeconfig-source.js';

export class KubeconfigClusterDirectory implements ClusterDirectory {
  private readonly byName: Map<string, KubeconfigCluster>;
  private readonly cached: (name: string) => Promise<UpstreamCluster | undefined>;

  constructor(
    private readonly resources: ResourceStore,
    clusters: KubeconfigCluster[],
    clock: Clock,
  ) {
    this.byName = new Map(clusters.map((c) => [c.name, c]));
    this.cached = cachedLoader((name) => this.load(name), clock);
  }

  async registered(name: string): Promise<RegisteredCluster | undefined> {
    // The same cached read as resolve: the kubeconfig is local, so nothing here leaves the process.
    const cluster = await this.resolve(name);
    return cluster && { name: cluster.name, labels: cluster.labels };
  }

  resolve(name: string): Promise<UpstreamCluster | undefined> {
    // Only names the kubeconfig has are cached, so random names cannot grow the cache.
    return this.byName.has(name) ? this.cached(name) : Promise.resolve(undefined);
  }

  private async load(name: string): Promise<UpstreamCluster | undefined> {
    const source = this.byName.get(name);
    const stored = await this.resources.get<KubeCluster>('kube_cluster', name);
    if (source === undefined || !stored) return undefined;
    return {
      name,
      labels: stored.body.metadata.labels ?? {},
      server: source.server,
      tls: source.tls,
      ...(source.token ? { bearerToken: async () => source.token! } : {}),
    };
  }
}
