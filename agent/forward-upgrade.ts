// Upgraded requests (exec, attach, port-forward, proxied WebSockets): a fresh connection that
// never returns to a pool, piped byte for byte once the API server answers 101. From the moment
// it goes upstream until the relay ends, the request counts toward its user's stream cap and is
// tracked by StreamLifetimes, whatever the answer: a 101, or a plain answer (a 403 Status, or
// whatever a proxied server sends) relayed to the client.
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { ForwardDeps, UpstreamRequest } from './forward.js';
import { type KubeStatus, kubeStatus, sendStatusOnSocket } from './kube-status.js';
import { clientResponseHeaders } from './request-headers.js';
import { type EndReason, elapsedMs, finishScope } from './request-scope.js';
import { FrameBoundaries } from '../lib/spdy/index.js';
import { spdyEnding } from './spdy-boundaries.js';
import { endingStatus, webSocketEnding } from './stream-ending.js';
import { UpgradeRelay } from './upgrade-relay.js';
import type { OpenSession } from './sessions.js';
import { KEEPALIVE_MS, upstreamPath } from './upstream-pools.js';
import { WebSocketBoundaries } from './websocket-frames.js';

/** A refusal is a short Status; a larger answer to an upgrade is not relayed. */
const MAX_REFUSAL_BYTES = 64 * 1024;

/** Throws (429) before anything goes upstream when the user already holds their share of streams. */
export function forwardUpgrade(deps: ForwardDeps, clientSocket: Duplex, head: Buffer, upstream: UpstreamRequest): void {
  const { scope } = upstream;
  const cluster = scope.cluster!;
  const user = scope.identity!.username;
  // The client left while its request was being authorized: its close went unheard, so nothing
  // may be taken for it (a slot taken now would never be given back).
  if (clientSocket.destroyed) {
    finishScope(scope, { status: 0, ended: 'client closed' }, deps.onFinish, deps.log);
    return;
  }
  deps.streamConcurrency.admit(user, scope.streamLimit);
  const server = cluster.server;
  const upstreamReq = https.request({
    ...deps.pools.forCluster(cluster).connect,
    protocol: 'https:',
    hostname: server.hostname.replace(/^\[|\]$/g, ''),
    port: server.port || 443,
    method: scope.method,
    path: upstreamPath(cluster, upstream.pathAndQuery),
    headers: { ...upstream.headers, host: server.host },
    agent: false,
  } as https.RequestOptions);
  let upstreamSocket: Duplex | undefined;
  /** What the client was sent: 0 until a status line goes out. */
  let status = 0;
  let done = false;

  /** Set once the 101 went to the client: from then on the connection is relayed, and ended through it. */
  let relay: UpgradeRelay | undefined;
  /** The exec, attach or port-forward session the 101 opened: read, recorded and audited beside the relay. */
  let session: OpenSession | undefined;
  /** What the end of the relayed connection says, in the protocol the API server granted. */
  let ending: (status: KubeStatus) => Buffer | undefined = () => undefined;

  /** Releases what this upgrade holds and records how it ended; the first call wins. */
  const settle = (reason: EndReason, message?: string): void => {
    if (done) return;
    done = true;
    clearTimeout(deadline);
    deps.lifetimes.release(tracked);
    deps.streamConcurrency.release(user);
    finishScope(scope, { status, ended: reason, ...(message ? { message } : {}) }, deps.onFinish, deps.log);
    session?.end();
  };
  /** The client left or the connection failed: both sides go at once. */
  const drop = (reason: EndReason): void => {
    settle(reason);
    upstreamReq.destroy();
    upstreamSocket?.destroy();
    clientSocket.destroy();
  };
  /**
   * The agent ends the stream (certificate expired, access removed, a lock, a drain): the user is
   * told why, as a Status answer before the 101, or in the relayed protocol after it.
   */
  const end = (reason: EndReason, message?: string): void => {
    if (done) return;
    const said = endingStatus(reason, message);
    if (!relay) {
      fail(said, reason);
      return;
    }
    settle(reason, said.message);
    relay.endWith(ending(said));
  };
  /** Before the client got a status line: a Status that says why, then the end of both sides. */
  const fail = (refusal: KubeStatus, reason: EndReason = 'upstream failed'): void => {
    if (done) return;
    status = refusal.code;
    settle(reason, refusal.message);
    upstreamReq.destroy();
    upstreamSocket?.destroy();
    sendStatusOnSocket(clientSocket, refusal, scope.id);
  };

  const tracked = deps.lifetimes.track(scope, end);
  // One deadline for the whole answer, so neither a silent server nor one that trickles a
  // non-101 answer holds the connection.
  const deadline = setTimeout(
    () => fail(kubeStatus(504, `the API server gave no complete answer to the upgrade within ${deps.upgradeAnswerTimeoutMs / 1000} s`)),
    deps.upgradeAnswerTimeoutMs,
  );
  clientSocket.on('close', () => drop('client closed'));
  clientSocket.on('error', () => drop('client closed'));

  /** A relay that follows the granted protocol's frames, and the words that end it in that protocol. */
  const relayFor = (granted: string, upstreamRes: IncomingMessage, socket: Duplex): UpgradeRelay => {
    if (granted === 'websocket') {
      const protocol = String(upstreamRes.headers['sec-websocket-protocol'] ?? '');
      ending = (said) => webSocketEnding(protocol, said);
      return new UpgradeRelay(socket, clientSocket, new WebSocketBoundaries());
    }
    if (granted === 'spdy/3.1') {
      const fromClient = new FrameBoundaries();
      const protocol = String(upstreamRes.headers['x-stream-protocol-version'] ?? '');
      const remoteCommand = scope.request?.subresource === 'exec' || scope.request?.subresource === 'attach';
      ending = (said) => spdyEnding(fromClient, remoteCommand, protocol, said);
      return new UpgradeRelay(socket, clientSocket, new FrameBoundaries(), fromClient);
    }
    return new UpgradeRelay(socket, clientSocket, undefined);
  };

  upstreamReq.on('upgrade', (upstreamRes: IncomingMessage, socket: Duplex, upstreamHead: Buffer) => {
    upstreamSocket = socket;
    socket.on('error', () => drop('upstream failed'));
    if (done) {
      socket.destroy();
      return;
    }
    clearTimeout(deadline);
    scope.timings.upstreamHeadersMs = elapsedMs(scope);
    const asked = String(upstream.headers.upgrade ?? '').toLowerCase();
    const granted = String(upstreamRes.headers.upgrade ?? '').toLowerCase();
    if (upstreamRes.statusCode !== 101 || granted !== asked) {
      fail(kubeStatus(502, `the API server answered an upgrade to ${asked} with ${upstreamRes.statusCode} ${granted || '(no upgrade)'}`));
      return;
    }
    const lines = [`HTTP/1.1 101 ${upstreamRes.statusMessage || 'Switching Protocols'}`];
    for (let i = 0; i < upstreamRes.rawHeaders.length; i += 2) {
      if (upstreamRes.rawHeaders[i]!.toLowerCase() !== 'audit-id')
        lines.push(`${upstreamRes.rawHeaders[i]}: ${upstreamRes.rawHeaders[i + 1]}`);
    }
    lines.push(`Audit-Id: ${scope.id}`);
    status = 101;
    clientSocket.write(`${lines.join('\r\n')}\r\n\r\n`);
    for (const side of [clientSocket, socket]) {
      const tcp = side as Duplex & {
        setKeepAlive?: (on: boolean, delay: number) => void;
        setTimeout?: (ms: number) => void;
        setNoDelay?: (on: boolean) => void;
      };
      tcp.setKeepAlive?.(true, KEEPALIVE_MS);
      tcp.setTimeout?.(0);
      // Small frames (a port-forward's stream openings, keystrokes) go out at once: with Nagle's
      // algorithm each waited for the peer's delayed ACK, about 40 ms a round.
      tcp.setNoDelay?.(true);
    }
    relay = relayFor(granted, upstreamRes, socket);
    relay.start(upstreamHead, head);
    session = deps.sessions?.begin(scope, granted, grantedProtocol(granted, upstreamRes));
    if (session) tapSession(session, clientSocket, socket, head, upstreamHead);
    // The server's end is relayed (the client's side ends after what it sent); the client's close then settles.
    socket.on('close', () => settle('answered'));
  });

  upstreamReq.on('response', (upstreamRes: IncomingMessage) => {
    scope.timings.upstreamHeadersMs = elapsedMs(scope);
    // Not upgraded (for example a 403 Status): relay it so kubectl can print it or fall back.
    const lines = [`HTTP/1.1 ${upstreamRes.statusCode} ${upstreamRes.statusMessage ?? ''}`];
    const headers = clientResponseHeaders(upstreamRes.headers as Record<string, string | string[]>, scope.id);
    delete headers['content-length'];
    for (const [name, value] of Object.entries(headers)) for (const v of [value].flat()) lines.push(`${name}: ${v}`);
    const chunks: Buffer[] = [];
    let size = 0;
    upstreamRes.on('error', () => undefined);
    upstreamRes.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REFUSAL_BYTES) chunks.push(chunk);
      else
        fail(
          kubeStatus(
            502,
            `the API server answered an upgrade with ${upstreamRes.statusCode} and a body over ${MAX_REFUSAL_BYTES / 1024} KiB; send the request without Connection: Upgrade`,
          ),
        );
    });
    upstreamRes.on('close', () => {
      if (!upstreamRes.complete) fail(kubeStatus(502, 'the API server closed its answer to the upgrade before the end'));
    });
    upstreamRes.on('end', () => {
      if (done) return;
      const body = Buffer.concat(chunks);
      lines.push(`content-length: ${body.length}`, 'connection: close');
      status = upstreamRes.statusCode ?? 0;
      settle('answered');
      clientSocket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]));
    });
  });

  upstreamReq.on('error', (error) => {
    if (done) return;
    deps.log(`upstream ${cluster.name} (upgrade): ${error.message}`);
    fail(kubeStatus(502, `cannot reach the API server of cluster "${cluster.name}": ${error.message}`));
  });
  upstreamReq.end();
}

/** The subprotocol the API server granted: Sec-WebSocket-Protocol, or X-Stream-Protocol-Version for SPDY. */
function grantedProtocol(granted: string, upstreamRes: IncomingMessage): string {
  const header = granted === 'websocket' ? 'sec-websocket-protocol' : 'x-stream-protocol-version';
  return String(upstreamRes.headers[header] ?? '').trim();
}

/**
 * The session reads copies of what is relayed: its listeners come after the relay's, so every
 * chunk is already passed on (or queued) when the session sees it.
 */
function tapSession(session: OpenSession, client: Duplex, upstream: Duplex, clientHead: Buffer, upstreamHead: Buffer): void {
  if (upstreamHead.length > 0) session.fromServer(upstreamHead);
  if (clientHead.length > 0) session.fromClient(clientHead);
  upstream.on('data', (chunk: Buffer) => session.fromServer(chunk));
  client.on('data', (chunk: Buffer) => session.fromClient(chunk));
}
