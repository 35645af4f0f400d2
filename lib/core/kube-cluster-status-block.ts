// The read-only `status:` block a kube_cluster carries when it leaves the server (tctl get
// kube_clusters, tsh's cluster list): what its agent last found, or `unknown` when no agent wrote
// a status or the last one is stale. It is never stored with the cluster; tctl create drops it,
// so a file made with tctl get loads again unchanged.
import { type ClusterHealth, shownHealth } from './kube-cluster-health.js';

export type ShownStatus = 'healthy' | 'unhealthy' | 'unknown';

export interface KubeClusterStatusBlock {
  status: ShownStatus;
  /** What is wrong: the agent's reason when unhealthy; why nothing is known when unknown. */
  reason?: string;
  /** What to do about it. */
  fix?: string;
  /** When the agent last checked (absent when no agent ever did). */
  checked_at?: string;
  /** Which agent checked. */
  agent?: string;
}

/** Why tctl and the admin API refuse to write or name kind kube_cluster_status. */
export const STATUS_KIND_READ_ONLY =
  'kube_cluster_status is written by the Kubeport agents as they check each cluster, never by hand; tctl get kube_clusters shows it, and tctl rm kube_cluster/NAME removes it with its cluster';

const NEVER_CHECKED = 'no agent has checked this cluster yet';
const NEVER_CHECKED_FIX = 'start an agent that serves it (see the README, "The agent"); its first check follows within a minute';
const STALE_FIX = 'check that an agent is running and can write to the resource store';

/** The block for one cluster now, from its stored health (undefined: none stored). */
export function statusBlock(health: ClusterHealth | undefined, now: Date): KubeClusterStatusBlock {
  const shown = shownHealth(health, now);
  if (health === undefined) return { status: 'unknown', reason: NEVER_CHECKED, fix: NEVER_CHECKED_FIX };
  const when = { checked_at: health.checked_at, agent: health.agent };
  if (shown === 'unknown') {
    return {
      status: 'unknown',
      reason: `the last check, by ${health.agent} at ${health.checked_at}, is too old to say`,
      fix: STALE_FIX,
      ...when,
    };
  }
  if (shown === 'healthy') return { status: 'healthy', ...when };
  return {
    status: 'unhealthy',
    reason: health.reason ?? 'the agent found a problem it did not describe',
    ...(health.fix !== undefined ? { fix: health.fix } : {}),
    ...when,
  };
}

/** A kube_cluster document without its status block (tctl create of what tctl get printed). */
export function withoutStatusBlock(document: unknown): unknown {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return document;
  const record = document as Record<string, unknown>;
  if (record.kind !== 'kube_cluster' || !('status' in record)) return document;
  return Object.fromEntries(Object.entries(record).filter(([field]) => field !== 'status'));
}
