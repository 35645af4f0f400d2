// What the agent last found when it checked a cluster (reachable, its token accepted, allowed to
// impersonate), as `tctl get kube_clusters` and `tsh kube ls` show it and as the agent answers
// requests to an unhealthy cluster. Each agent keeps its own view in memory for fail-fast
// answers and writes it to the resource store as kind `kube_cluster_status`, name = cluster name,
// for the control plane to show; a status older than STALE_AFTER_MS shows as unknown.

/** The resource-store kind holding each cluster's last health (not a kind users create). */
export const KUBE_CLUSTER_STATUS_KIND = 'kube_cluster_status';

/** How often each agent checks each cluster. */
export const HEALTH_CHECK_INTERVAL_MS = 30_000;
/** A status not refreshed for this long says nothing about now (its agent may be gone). */
export const STALE_AFTER_MS = 3 * HEALTH_CHECK_INTERVAL_MS + 15_000;

/** The first check that failed, in the order the agent runs them. */
export type ClusterProblem =
  /** DescribeCluster failed (no such cluster, not allowed, throttled) or the cluster is not ACTIVE. */
  | 'describe_failed'
  /** No TCP/TLS connection to the API server (security group, private endpoint, DNS, CA). */
  | 'unreachable'
  /** The API server answered 401 to the agent's token (no access entry maps the agent's role). */
  | 'token_refused'
  /** The SelfSubjectAccessReview said the agent may not impersonate users, groups or service accounts. */
  | 'cannot_impersonate'
  /** Anything else the API server answered (5xx, a malformed review). */
  | 'check_failed';

export interface ClusterHealth {
  cluster: string;
  status: 'healthy' | 'unhealthy';
  /** Set when unhealthy. */
  problem?: ClusterProblem;
  /** One line: what is wrong (unhealthy only). */
  reason?: string;
  /** One line: what to do about it (unhealthy only), e.g. the tctl kube bootstrap command. */
  fix?: string;
  /** ISO time of the check. */
  checked_at: string;
  /** Which agent checked (its host name or task id). */
  agent: string;
}

/** The status to show now: `unknown` when none was written or it is stale. */
export function shownHealth(health: ClusterHealth | undefined, now: Date): 'healthy' | 'unhealthy' | 'unknown' {
  if (health === undefined) return 'unknown';
  const age = now.getTime() - Date.parse(health.checked_at);
  if (!(age <= STALE_AFTER_MS)) return 'unknown';
  return health.status;
}
