// Fail-fast for a cluster the agent's own last check found unhealthy (no access entry for its
// role, the bootstrap ClusterRole missing, the endpoint unreachable): the request gets a 503
// Status naming the reason and the fix at once, instead of a confusing 401 or 403 from the
// cluster or a connection timeout. Checked after authorization, so only users who may reach the
// cluster learn why it is down, and never for open streams (a flapping check must not cut them).
import { KubeportError } from '../lib/core/errors.js';
import { type ClusterHealth, shownHealth } from '../lib/core/kube-cluster-health.js';
import type { ClusterHealthView } from '../lib/core/ports.js';

export class UnhealthyClusterError extends KubeportError {
  constructor(readonly health: ClusterHealth) {
    super('unavailable', unhealthyMessage(health));
    this.name = 'UnhealthyClusterError';
  }
}

/** "kube cluster NAME is unhealthy: <reason>; <fix>". */
export function unhealthyMessage(health: ClusterHealth): string {
  const reason = health.reason ?? health.problem ?? 'its last health check failed';
  return `kube cluster ${health.cluster} is unhealthy: ${reason}${health.fix ? `; ${health.fix}` : ''}`;
}

/**
 * Throws UnhealthyClusterError when the view's current health of `cluster` is unhealthy and not
 * stale (a view whose checks stopped says nothing about now, so requests go through).
 */
export function refuseUnhealthyCluster(view: ClusterHealthView | undefined, cluster: string, now: Date): void {
  const health = view?.current(cluster);
  if (health !== undefined && shownHealth(health, now) === 'unhealthy') throw new UnhealthyClusterError(health);
}
