// kubectl port-forward, as the stand-in's pods answer it, over both transports kubectl speaks:
// - the WebSocket tunnel (kubectl's default since 1.31): GET, Sec-WebSocket-Protocol
//   SPDY/3.1+portforward.k8s.io, then a whole SPDY/3.1 session inside binary messages;
// - SPDY/3.1 itself (KUBECTL_PORT_FORWARD_WEBSOCKETS=false): POST, Upgrade: SPDY/3.1,
//   X-Stream-Protocol-Version: portforward.k8s.io echoed in the 101.
// The upgrade is admitted and authorized like any request: RBAC asks `get pods/portforward` for
// the GET and `create pods/portforward` for the POST, as kube-apiserver 1.32 does, and a refusal
// is a Status kubectl prints. What runs inside the session is port-forward-session.ts.
//
// Every socket and WebSocket here has an error listener: a peer's protocol error must end that
// one connection, never the process serving the cluster.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Admission } from './admission.js';
import type { Authorizer } from './authentication.js';
import type { Fixtures } from './fixtures.js';
import { servePortForward } from './port-forward-session.js';
import { type Reply, forbidden, notFound, pathNotFound, statusReply } from './replies.js';

/** The one subprotocol kubectl offers for the tunnel. */
export const TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
/** The one stream protocol port-forward has over SPDY. */
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
const PORT_FORWARD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/;

export function createPortForwardUpgrade(admit: (req: IncomingMessage) => Admission, fixtures: Fixtures, allowed: Authorizer) {
  // ws refuses the subprotocol itself ('/' is not a token character), so this file checks the
  // offer, hides it from ws, and names the chosen one in the 101 through ws's headers hook.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  wss.on('headers', (headers) => headers.push(`Sec-WebSocket-Protocol: ${TUNNEL_PROTOCOL}`));
  wss.on('error', () => undefined); // noServer: never emitted today; listened to all the same

  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // After an upgrade the HTTP server no longer listens for errors on the socket.
    socket.on('error', () => socket.destroy());
    const admission = admit(req);
    const { record } = admission;
    const refuse = (reply: Reply, extraHeaders = '') => {
      record.status = reply.status;
      // Read on to the client's end, which completes the close; unread, the socket would stay half-open.
      socket.resume();
      socket.end(
        `HTTP/1.1 ${reply.status} Refused\r\nContent-Type: ${reply.contentType ?? 'application/json'}\r\n${extraHeaders}` +
          `Content-Length: ${reply.body.length}\r\nConnection: close\r\n\r\n${reply.body.toString()}`,
      );
    };
    if ('reject' in admission) return refuse(admission.reject);
    const { user } = admission;
    const match = PORT_FORWARD_PATH.exec(new URL(req.url ?? '/', 'https://stand-in').pathname);
    if (!match) return refuse(pathNotFound);
    const [, namespace, name] = match as unknown as [string, string, string];
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    const transport =
      req.method === 'GET' && upgrade === 'websocket' ? 'websocket' : req.method === 'POST' && upgrade === 'spdy/3.1' ? 'spdy' : undefined;
    if (!transport) {
      return refuse(
        statusReply(
          400,
          'BadRequest',
          `port-forward takes GET with Upgrade: websocket or POST with Upgrade: SPDY/3.1, not ${req.method} with Upgrade: ${upgrade || '(none)'}`,
        ),
      );
    }
    const attrs = {
      verb: transport === 'websocket' ? 'get' : 'create',
      group: '',
      resource: 'pods',
      subresource: 'portforward',
      namespace,
      name,
    };
    if (!allowed(user, namespace)) return refuse(forbidden(user.username, attrs));
    const pod = fixtures.pods.get(namespace)?.find((s) => s.object.metadata.name === name)?.object;
    if (!pod) return refuse(notFound('pods', name));
    const phase = String(pod.status.phase);
    if (phase !== 'Running') {
      return refuse(statusReply(400, 'BadRequest', `unable to upgrade connection: pod ${name} is not running (phase ${phase})`));
    }

    if (transport === 'spdy') {
      const offered = (req.headersDistinct['x-stream-protocol-version'] ?? []).flatMap((v) => v.split(',').map((s) => s.trim()));
      if (!offered.includes(PORT_FORWARD_PROTOCOL)) {
        // The kubelet's words, in plain text, with the versions it would have taken.
        const text = `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${PORT_FORWARD_PROTOCOL}]`;
        const reply = { status: 403, body: Buffer.from(text), contentType: 'text/plain; charset=utf-8' };
        return refuse(reply, `X-Accepted-Stream-Protocol-Versions: ${PORT_FORWARD_PROTOCOL}\r\n`);
      }
      record.status = 101;
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`,
      );
      if (head.length > 0) socket.unshift(head);
      servePortForward(socket, pod);
      return;
    }

    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((s) => s.trim());
    if (!offered.includes(TUNNEL_PROTOCOL)) {
      return refuse(
        statusReply(
          400,
          'BadRequest',
          `port-forward over WebSocket needs the subprotocol ${TUNNEL_PROTOCOL}; offered: ${offered.join(', ') || 'none'}`,
        ),
      );
    }
    record.status = 101;
    delete req.headers['sec-websocket-protocol'];
    wss.handleUpgrade(req, socket, head, (ws) => {
      // ws closes the connection itself (1002) on a protocol error; the listener keeps the error from being thrown.
      ws.on('error', () => ws.terminate());
      // Each binary message is a chunk of the SPDY byte stream, whatever its boundaries; the
      // stream pauses the socket when the session reads slower than kubectl writes.
      const tunnel = createWebSocketStream(ws);
      tunnel.on('error', () => tunnel.destroy());
      // When the session ends first (GOAWAY, a protocol error), the tunnel closes cleanly: 1000.
      servePortForward(tunnel, pod).on('close', () => ws.close(1000));
    });
  };
}
