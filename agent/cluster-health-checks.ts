// The agent checks every registered cluster each HEALTH_CHECK_INTERVAL_MS: the latest result per
// cluster is kept in memory for fail-fast answers (ClusterHealthView) and written to the resource
// store as kind kube_cluster_status for tctl and tsh. A change of state is logged once, not every
// round, so a cluster that stays broken does not flood the log.
import { mapBounded } from '../lib/core/bounded-map.js';
import { sameHealth } from '../lib/core/cluster-health-verdict.js';
import { type ClusterHealth, HEALTH_CHECK_INTERVAL_MS, KUBE_CLUSTER_STATUS_KIND } from '../lib/core/kube-cluster-health.js';
import type { ClusterHealthView, ResourceStore } from '../lib/core/ports.js';
import type { KubeCluster } from '../lib/core/resources.js';
import type { Timers } from '../lib/services/audit-writer.js';
import { RepeatingRound } from '../lib/services/repeating-round.js';
import type { ProbedCluster } from './cluster-health-probe.js';

/** Clusters probed at once: each probe is a few small requests, and most time is waiting. */
const PROBES_AT_ONCE = 8;

export interface ClusterHealthChecksDeps {
  resources: ResourceStore;
  /** Checks one cluster (probeCluster bound to its deps); must not throw. */
  probe: (cluster: ProbedCluster) => Promise<ClusterHealth>;
  /** This agent's name: the statuses it wrote, and only those, it removes when their cluster goes. */
  agent: string;
  timers: Timers;
  log: (message: string) => void;
  /** @default HEALTH_CHECK_INTERVAL_MS */
  intervalMs?: number;
}

export class ClusterHealthChecks implements ClusterHealthView {
  private readonly latest = new Map<string, ClusterHealth>();
  private readonly rounds: RepeatingRound;

  constructor(private readonly deps: ClusterHealthChecksDeps) {
    this.rounds = new RepeatingRound(() => this.checkAll(), {
      intervalMs: deps.intervalMs ?? HEALTH_CHECK_INTERVAL_MS,
      timers: deps.timers,
      log: deps.log,
      name: 'cluster health checks',
    });
  }

  current(cluster: string): ClusterHealth | undefined {
    return this.latest.get(cluster);
  }

  /** Runs the first round; resolves when every cluster has been checked once. */
  start(): Promise<void> {
    return this.rounds.start();
  }

  /** Checks every cluster now (or awaits the round running). */
  checkNow(): Promise<void> {
    return this.rounds.runNow();
  }

  /** No round starts after this; resolves once the running one ended. */
  stop(): Promise<void> {
    return this.rounds.stop();
  }

  private async checkAll(): Promise<void> {
    const registered = await this.deps.resources.list<KubeCluster>('kube_cluster');
    const clusters: ProbedCluster[] = registered.map((r) => ({
      name: r.name,
      ...(r.body.spec?.eks ? { eks: r.body.spec.eks } : {}),
    }));
    const failures: string[] = [];
    await mapBounded(clusters, PROBES_AT_ONCE, async (cluster) => {
      const health = await this.deps.probe(cluster);
      this.record(health);
      try {
        await this.deps.resources.put<ClusterHealth>(KUBE_CLUSTER_STATUS_KIND, cluster.name, health);
      } catch (error) {
        failures.push(`${cluster.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    await this.forgetRemoved(new Set(clusters.map((c) => c.name)));
    // One line per round, not per cluster: a store outage is one problem.
    if (failures.length > 0) this.deps.log(`cluster health: could not store ${failures.length} status(es): ${failures.join('; ')}`);
  }

  private record(health: ClusterHealth): void {
    const previous = this.latest.get(health.cluster);
    this.latest.set(health.cluster, health);
    if (sameHealth(previous, health)) return;
    // The first check of a healthy cluster is no news; every other change is.
    if (health.status === 'healthy') {
      if (previous !== undefined) this.deps.log(`cluster ${health.cluster} is healthy again`);
      return;
    }
    this.deps.log(`cluster ${health.cluster} is unhealthy (${health.problem}): ${health.reason} — fix: ${health.fix}`);
  }

  /** Clusters no longer registered leave memory, and the statuses this agent wrote for them leave the store. */
  private async forgetRemoved(registered: Set<string>): Promise<void> {
    for (const name of [...this.latest.keys()]) if (!registered.has(name)) this.latest.delete(name);
    const statuses = await this.deps.resources.list<ClusterHealth>(KUBE_CLUSTER_STATUS_KIND);
    for (const status of statuses) {
      if (registered.has(status.name) || status.body.agent !== this.deps.agent) continue;
      // Conditional: another agent may have just written it (the cluster registered again).
      await this.deps.resources.delete(KUBE_CLUSTER_STATUS_KIND, status.name, { expectRevision: status.revision }).catch(() => undefined);
    }
  }
}
