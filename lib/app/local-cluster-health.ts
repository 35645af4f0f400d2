// Local mode's health checks: the same checks as the agent on AWS runs, against the kubeconfig's
// clusters, so `tsh kube ls` and `tctl get kube_clusters` show their health and the agent answers
// a request to an unhealthy one at once.
import { hostname } from 'node:os';
import { ClusterHealthChecks } from '../../agent/cluster-health-checks.js';
import { probeCluster } from '../../agent/cluster-health-probe.js';
import { KubeconfigClusterDirectory } from '../adapters/local/kubeconfig-cluster-directory.js';
import type { KubeconfigCluster } from '../adapters/local/kubeconfig-source.js';
import { systemTimers } from '../adapters/system.js';
import type { Clock, ClusterHealthView, ResourceStore } from '../core/ports.js';

/** What local mode shows of its health checks: the latest per cluster, and a round on demand. */
export type LocalClusterHealth = ClusterHealthView & {
  /** Checks every cluster now (or awaits the round running). */
  checkNow(): Promise<void>;
};

/** The checks, not started: start() runs the first round, then one every 30 s; stop() at shutdown. */
export function localClusterHealth(deps: {
  resources: ResourceStore;
  clusters: KubeconfigCluster[];
  clock: Clock;
  log: (message: string) => void;
}): ClusterHealthChecks {
  const clusters = new KubeconfigClusterDirectory(deps.resources, deps.clusters, deps.clock);
  const agent = hostname();
  return new ClusterHealthChecks({
    resources: deps.resources,
    agent,
    probe: (cluster) => probeCluster({ clusters, clock: deps.clock, agent }, cluster),
    timers: systemTimers,
    log: deps.log,
  });
}
