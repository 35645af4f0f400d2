// tctl kube bootstrap CLUSTER: prints what a cluster needs before the agent may act for users, the
// impersonator ClusterRole and its binding to the access entry's group, ready for
// `kubectl apply -f -`. The cluster must be registered, so a typo is caught before anything is applied.
import { bootstrapOutput } from '../../core/impersonator-manifest.js';
import type { EksSource } from '../../core/kube-cluster-source.js';
import { ClientError } from '../api-client.js';
import { UsageError } from '../usage-error.js';
import type { TctlDeps } from './deps.js';

export async function run(options: { cluster: string }, deps: TctlDeps): Promise<void> {
  const name = options.cluster.trim();
  if (name === '' || name.includes('/'))
    throw new UsageError('write the cluster as tctl get kube_clusters names it, e.g. tctl kube bootstrap prod');
  const client = await deps.admin();
  let items: { spec?: { eks?: EksSource } }[];
  try {
    ({ items } = await client.call<{ items: { spec?: { eks?: EksSource } }[] }>(
      'GET',
      `/webapi/admin/resources/kube_cluster/${encodeURIComponent(name)}`,
    ));
  } catch (error) {
    if (error instanceof ClientError && error.status === 404) {
      throw new UsageError(`kube_cluster "${name}" is not registered; tctl get kube_clusters lists the clusters there are`);
    }
    throw error;
  }
  deps.out.stdout.write(bootstrapOutput(name, items[0]?.spec?.eks));
}
