// One kube.request event per request the agent answered, refused or ended, read off its finished
// scope. Discovery requests (kubectl makes dozens per command) are counted per user and cluster
// instead, and reported as one kube.discovery event per pair and period.
import { kubeRequestInfo } from '../lib/core/kube-request-info.js';
import type { AuditEvent, AuditSink, Clock } from '../lib/core/ports.js';
import { parseKubeTarget } from '../lib/core/request-target.js';
import { auditCodes } from '../lib/services/audit-events.js';
import { requestFields, scopeFields } from './audit-fields.js';
import { isDiscoveryRequest } from './kube-status.js';
import type { RequestScope } from './request-scope.js';

export interface RequestAuditDeps {
  sink: AuditSink;
  clock: Clock;
  /** Ids of kube.discovery events (random UUIDs). */
  newId: () => string;
  /** How often the discovery counts are reported. */
  discoveryPeriodMs: number;
}

/** The event of one finished request: uid is the Audit-ID the cluster and the client saw, time its arrival. */
export function kubeRequestEvent(finished: RequestScope): AuditEvent {
  const scope = withTarget(finished);
  const outcome = scope.outcome ?? { status: 0, ended: 'answered' as const };
  return {
    event: 'kube.request',
    code: auditCodes['kube.request'].success,
    time: scope.startedAt.toISOString(),
    uid: scope.id,
    ...scopeFields(scope),
    ...requestFields(scope),
    ...(scope.headUnreadable ? { head_unreadable: true } : {}),
    response_code: outcome.status,
    end_reason: outcome.ended,
    ...(outcome.message !== undefined ? { message: outcome.message } : {}),
    duration_ms: Math.round(scope.timings.finishedMs ?? 0),
  };
}

/**
 * A request refused before its target was read (no certificate, a drain) still names what it
 * asked for, when its target can be read: the same path and resource fields as any other.
 */
function withTarget(scope: RequestScope): RequestScope {
  if (scope.target) return scope;
  try {
    const target = parseKubeTarget(scope.url);
    return { ...scope, target, request: kubeRequestInfo(scope.method, target.path, new URLSearchParams(target.query)) };
  } catch {
    return scope;
  }
}

/**
 * Discovery requests that were authorized (so their user and cluster are known) and answered by
 * the cluster: the API group lists, /version and the OpenAPI documents. Refused ones are logged
 * one by one like any refusal.
 */
export function isCountedDiscovery(scope: RequestScope): boolean {
  if (scope.method !== 'GET' || scope.request?.isResourceRequest || !scope.principals || !scope.target || !scope.identity) return false;
  // The agent's own refusals after authorization (an unhealthy cluster, one it cannot reach) carry a message: logged one by one.
  if (scope.outcome?.message !== undefined) return false;
  const path = scope.target.path;
  return isDiscoveryRequest('GET', path) || path === '/version' || path === '/version/' || path.startsWith('/openapi/');
}

interface DiscoveryCount {
  user: string;
  cluster: string;
  count: number;
}

export class RequestAudit {
  private counts = new Map<string, DiscoveryCount>();
  private periodStart: Date;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly deps: RequestAuditDeps) {
    this.periodStart = deps.clock.now();
    this.timer = setInterval(() => this.reportDiscovery(), deps.discoveryPeriodMs);
    this.timer.unref();
  }

  /** The agent's finish hook: called once per request. */
  readonly finished = (scope: RequestScope): void => {
    if (!isCountedDiscovery(scope)) {
      this.deps.sink.submit(kubeRequestEvent(scope));
      return;
    }
    const user = scope.identity!.username;
    const cluster = scope.target!.cluster;
    const key = `${user}\n${cluster}`;
    const known = this.counts.get(key);
    if (known) known.count++;
    else this.counts.set(key, { user, cluster, count: 1 });
    // Past close, nothing would report it later.
    if (this.closed) this.reportDiscovery();
  };

  /** Hands one kube.discovery event per (user, cluster) counted since the last report to the sink. */
  reportDiscovery(): void {
    const end = this.deps.clock.now();
    const counted = [...this.counts.values()];
    this.counts = new Map();
    const start = this.periodStart;
    this.periodStart = end;
    for (const { user, cluster, count } of counted) {
      this.deps.sink.submit({
        event: 'kube.discovery',
        code: auditCodes['kube.discovery'].success,
        time: end.toISOString(),
        uid: this.deps.newId(),
        user,
        kubernetes_cluster: cluster,
        proto: 'kube',
        count,
        period_start: start.toISOString(),
        period_end: end.toISOString(),
      });
    }
  }

  /** Reports what is counted (before the sink is flushed) and stops the period timer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.reportDiscovery();
  }
}
