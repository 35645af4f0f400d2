// tsh kube login NAME: points kubectl at another cluster of the same login, same certificate.
import { followCaRotation } from '../ca-refresh.js';
import { listClusters, requireCluster, warnIfUnhealthy, writeKubeconfig } from '../kube-clusters.js';
import { currentProfile, requireValid } from '../session.js';
import type { TshDeps } from './deps.js';

export interface KubeLoginOptions {
  cluster: string;
  proxy?: string;
}

export async function run(options: KubeLoginOptions, deps: TshDeps): Promise<void> {
  const { profile, keys: stored } = currentProfile(deps.store, options.proxy);
  requireValid(profile, stored, deps.clock.now());
  const keys = await followCaRotation(deps, profile, stored);
  const clusters = await listClusters(deps, profile, keys);
  requireCluster(clusters, options.cluster);
  await writeKubeconfig(deps, profile, keys, clusters, options.cluster);
  deps.out.stdout.write(`Logged into Kubernetes cluster ${options.cluster}. Try: kubectl get pods\n`);
  warnIfUnhealthy(deps, clusters, options.cluster);
}
