// kubectl exec and attach upgrades, as the stand-in's pods answer them: admitted and authorized
// like any request, then served over the transport kubectl chose. A WebSocket GET
// (v5.channel.k8s.io, exec-websocket.ts) is authorized as `get pods/exec` and a SPDY/3.1 POST
// (exec-spdy.ts) as `create pods/exec`, as kube-apiserver 1.32 does; a refusal is a Status reply,
// so kubectl falls back from WebSocket to SPDY and prints the SPDY attempt's message.
//
// Every socket here has an error listener: a peer's protocol error (an unmasked frame, a reset)
// must end that one connection, never the process serving the cluster.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Admission } from './admission.js';
import type { Authorizer } from './authentication.js';
import { serveSpdyRemoteCommand } from './exec-spdy.js';
import { createWebSocketRemoteCommand } from './exec-websocket.js';
import type { Fixtures } from './fixtures.js';
import type { RemoteCommandRequest } from './remote-command.js';
import { type Reply, forbidden, methodNotAllowed, pathNotFound } from './replies.js';
import type { StreamOptions } from './types.js';

const REMOTE_COMMAND_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach)$/;

/** Writes a refusal on an upgrade socket as an HTTP reply; kubectl reads its Status. */
export function refuseUpgrade(socket: Duplex, reply: Reply, extraHeaders = ''): void {
  // Read on to the client's end, which completes the close; unread, the socket would stay half-open.
  socket.resume();
  socket.end(
    `HTTP/1.1 ${reply.status} Refused\r\nContent-Type: ${reply.contentType ?? 'application/json'}\r\n${extraHeaders}` +
      `Content-Length: ${reply.body.length}\r\nConnection: close\r\n\r\n${reply.body.toString()}`,
  );
}

export function createExecUpgrade(
  admit: (req: IncomingMessage) => Admission,
  fixtures: Fixtures,
  allowed: Authorizer,
  streams: StreamOptions = { intervalMs: 200, durationMs: 1000 },
) {
  const webSocket = createWebSocketRemoteCommand();

  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // After an upgrade the HTTP server no longer listens for errors on the socket.
    socket.on('error', () => socket.destroy());
    const admission = admit(req);
    const { record } = admission;
    const refuse = (reply: Reply, extraHeaders?: string) => {
      record.status = reply.status;
      refuseUpgrade(socket, reply, extraHeaders);
    };
    if ('reject' in admission) return refuse(admission.reject);
    const { user } = admission;
    const url = new URL(req.url ?? '/', 'https://stand-in');
    const match = REMOTE_COMMAND_PATH.exec(url.pathname);
    const pod = match && fixtures.pods.get(match[1]!)?.find((s) => s.object.metadata.name === match[2])?.object;
    if (!match || !pod) return refuse(pathNotFound);
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    const spdy = req.method === 'POST' && upgrade === 'spdy/3.1';
    if (!spdy && !(req.method === 'GET' && upgrade === 'websocket')) return refuse(methodNotAllowed);
    const subresource = match[3] as 'exec' | 'attach';
    const attrs = { verb: spdy ? 'create' : 'get', group: '', resource: 'pods', subresource, namespace: match[1]!, name: match[2]! };
    if (!allowed(user, attrs.namespace)) return refuse(forbidden(user.username, attrs));
    const request: RemoteCommandRequest = {
      kind: subresource,
      query: url.searchParams,
      pod: { name: match[2]!, namespace: match[1]!, ip: String(pod.status.podIP) },
      streams,
    };
    if (spdy) serveSpdyRemoteCommand(req, socket, head, request, { refuse, upgraded: () => (record.status = 101) });
    else webSocket(req, socket, head, request, { refuse, upgraded: () => (record.status = 101) });
  };
}
