// GET /healthz: the one answer the agent gives without a client certificate, for load balancer
// health checks and admins. It says whether the agent takes requests and how its audit sink
// fares (written, spooled, dropped, pending), and nothing about who uses it or which clusters.
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

/** 200 {status: ok} while the agent takes requests, 503 {status: draining} once it stops, so load balancers move on. */
export function answerHealth(req: IncomingMessage, res: ServerResponse, state: { draining: boolean; audit: AuditSink | undefined }): void {
  req.resume();
  const body = JSON.stringify({
    status: state.draining ? 'draining' : 'ok',
    ...(state.audit ? { audit: { healthy: state.audit.healthy, ...state.audit.counters() } } : {}),
  });
  res.writeHead(state.draining ? 503 : 200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...(state.draining ? { connection: 'close' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
