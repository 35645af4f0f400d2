// GET /healthz: the one answer the agent gives without a client certificate, for load balancer
// health checks. To anyone it says only whether the agent takes requests ({status}); the audit
// sink's counters (healthy, written, spooled, dropped, pending) go only to a caller with a valid
// certificate of the user CA (any user, e.g. `curl --cert` with a tsh certificate), since they
// would tell an attacker when events are being spooled or dropped. It never names a user or a
// cluster, and it is not audited (health checks every few seconds are nobody's request).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditSink } from '../lib/core/ports.js';

export const HEALTH_PATH = '/healthz';

/** Exactly GET or HEAD /healthz (a query is ignored); anything else goes through the pipeline and its certificate check. */
export function isHealthRequest(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const url = req.url ?? '';
  const queryAt = url.indexOf('?');
  return (queryAt === -1 ? url : url.slice(0, queryAt)) === HEALTH_PATH;
}

export interface HealthState {
  draining: boolean;
  audit: AuditSink | undefined;
  /** The caller presented a valid, unexpired certificate of the user CA: it may see the audit counters. */
  certified: boolean;
}

/** 200 {status: ok} while the agent takes requests, 503 {status: draining} once it stops, so load balancers move on. */
export function answerHealth(req: IncomingMessage, res: ServerResponse, state: HealthState): void {
  req.resume();
  const body = JSON.stringify({
    status: state.draining ? 'draining' : 'ok',
    ...(state.audit && state.certified ? { audit: { healthy: state.audit.healthy, ...state.audit.counters() } } : {}),
  });
  res.writeHead(state.draining ? 503 : 200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...(state.draining ? { connection: 'close' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
