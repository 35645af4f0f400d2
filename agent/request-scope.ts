// One record per request, created when it arrives and filled in by each step of the pipeline
// (authenticate → authorize → rewrite → forward → finish). Audit events and session recording
// read it once the request is finished (AgentDeps.onFinish).
import { performance } from 'node:perf_hooks';
import type { CertifiedIdentity } from '../lib/core/identity.js';
import type { AuditMode } from '../lib/core/audit-options.js';
import type { LockingMode } from '../lib/core/lock.js';
import type { ImpersonationRequest, KubePrincipals } from '../lib/core/kube-access.js';
import type { RegisteredCluster, UpstreamCluster } from '../lib/core/ports.js';
import type { KubeRequestInfo } from '../lib/core/kube-request-info.js';
import type { KubeTarget } from '../lib/core/request-target.js';

export interface StreamLimit {
  max: number;
  role: string;
}

/** Why a request or stream ended, when it was not simply answered. */
export type EndReason =
  | 'answered'
  | 'client closed'
  | 'certificate expired'
  | 'no longer authorized'
  | 'locked'
  | 'upstream failed'
  | 'agent draining'
  | 'agent closed';

export interface RequestScope {
  /** The agent's own id, sent upstream as Audit-ID and back to the client as Audit-Id. */
  readonly id: string;
  readonly method: string;
  /** The request target as the client sent it. */
  readonly url: string;
  readonly upgrade: boolean;
  /** Client address. */
  readonly source: string;
  /** The client's User-Agent header, for the audit event. */
  readonly userAgent: string;
  /** By the agent's clock. */
  readonly startedAt: Date;
  /** performance.now() at arrival; the timings below count from it. */
  readonly startedMark: number;
  identity?: CertifiedIdentity;
  /** Refused by the HTTP parser before its own request line could be read: method and url are empty. */
  headUnreadable?: boolean;
  target?: KubeTarget;
  /** What the request does, read from `target` as the API server reads it; roles are checked against it. */
  request?: KubeRequestInfo;
  /** What the client asked to act as (kubectl --as / --as-group). */
  impersonation?: ImpersonationRequest;
  /** The cluster as authorization saw it (registered name and labels), set once the request is authorized. */
  registered?: RegisteredCluster;
  /** How the agent reaches the cluster, resolved after authorization. */
  cluster?: UpstreamCluster;
  /** Who the agent impersonates toward the cluster for this request. */
  principals?: KubePrincipals;
  /** A watch, followed log or streamed proxy body: it holds its connection for as long as it runs. */
  streaming?: boolean;
  /** What the identity's roles say to do when the lock view is stale (strict: its streams end). */
  lockMode?: LockingMode;
  /** The roles' max_kubernetes_connections (smallest non-zero) and the role that sets it. */
  streamLimit?: StreamLimit;
  /** What the identity's roles say to do when events cannot be stored (strict: refused). */
  auditMode?: AuditMode;
  /** A role asks for keystrokes of interactive sessions to be recorded (record_session.kubernetes_input). */
  recordInput?: boolean;
  timings: {
    /** The request was authorized and its upstream headers built. */
    authorizedMs?: number;
    /** The cluster's status line arrived (101 for upgrades). */
    upstreamHeadersMs?: number;
    finishedMs?: number;
  };
  outcome?: {
    /** HTTP status sent to the client (0 when the connection ended before one). */
    status: number;
    ended: EndReason;
    /** What a refusal or failure said. */
    message?: string;
  };
}

export function createScope(
  id: string,
  method: string,
  url: string,
  upgrade: boolean,
  source: string,
  now: Date,
  userAgent = '',
): RequestScope {
  return { id, method, url, upgrade, source, userAgent, startedAt: now, startedMark: performance.now(), timings: {} };
}

export function elapsedMs(scope: RequestScope): number {
  return performance.now() - scope.startedMark;
}

/**
 * Records the outcome once (the first caller wins: a stream ended for expiry stays so even
 * though its socket then closes) and hands the scope to the finish hook.
 */
export function finishScope(
  scope: RequestScope,
  outcome: NonNullable<RequestScope['outcome']>,
  onFinish: ((scope: RequestScope) => void) | undefined,
  log: (message: string) => void,
): void {
  if (scope.outcome) return;
  scope.outcome = outcome;
  scope.timings.finishedMs = elapsedMs(scope);
  if (!onFinish) return;
  try {
    onFinish(scope);
  } catch (error) {
    log(`agent onFinish hook failed for request ${scope.id}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
