// Plain requests: admit (log, authenticate, impersonate), route, authorize, answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Admission } from './admission.js';
import type { Authorizer } from './authentication.js';
import { type Reply, discoveryContentType, forbidden, methodNotAllowed, pathNotFound, statusReply } from './replies.js';
import { type CompiledRoute, matchRoute } from './routing.js';
import type { RecordedRequest } from './types.js';

function send(res: ServerResponse, record: RecordedRequest, reply: Reply): void {
  if (reply.streamed) return;
  record.status = reply.status;
  res.writeHead(reply.status, {
    'Content-Type': reply.contentType ?? 'application/json',
    'Content-Length': reply.body.length,
    'Cache-Control': 'no-cache, private',
    ...(reply.contentType === discoveryContentType ? { Vary: 'Accept' } : {}),
    ...(reply.contentType?.startsWith('text/') ? { 'X-Content-Type-Options': 'nosniff' } : {}),
  });
  res.end(reply.body);
}

export function createRequestHandler(admit: (req: IncomingMessage) => Admission, routes: CompiledRoute[], allowed: Authorizer) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    const admission = admit(req);
    const { record } = admission;
    if ('reject' in admission) return send(res, record, admission.reject);
    const { user } = admission;

    const queryAt = target.indexOf('?');
    let path = queryAt < 0 ? target : target.slice(0, queryAt);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const match = matchRoute(routes, record.method, path);
    if (match === undefined) return send(res, record, pathNotFound);
    if (match === 'wrong method') return send(res, record, methodNotAllowed);
    const attrs = match.route.authorize?.(match.params);
    if (attrs && !allowed(user, attrs.namespace)) return send(res, record, forbidden(user.username, attrs));

    const query = new URLSearchParams(queryAt < 0 ? '' : target.slice(queryAt + 1));
    let reply: Reply;
    try {
      reply = await match.route.handle({ req, res, record, user, params: match.params, query });
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      reply = statusReply(500, 'InternalError', err instanceof Error ? err.message : String(err));
    }
    send(res, record, reply);
  };
}
