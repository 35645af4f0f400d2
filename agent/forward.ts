// Carries a request to the cluster and the answer back, streaming both ways: no buffering of
// watch or logs, and upgraded (exec, attach, port-forward) connections piped byte for byte.
// Whatever is forwarded lives only as long as its StreamLifetimes entry allows.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex, Readable } from 'node:stream';
import { clientResponseHeaders } from './request-headers.js';
import { kubeStatus, sendStatus, sendStatusOnSocket } from './kube-status.js';
import type { ConcurrencyPerIdentity } from './identity-concurrency.js';
import { type RequestScope, elapsedMs, finishScope } from './request-scope.js';
import type { StreamLifetimes } from './stream-lifetime.js';
import { KEEPALIVE_MS, type UpstreamPools, upstreamPath } from './upstream-pools.js';

/** What the steps before forwarding decided; the scope carries identity, cluster and principals. */
export interface UpstreamRequest {
  scope: RequestScope;
  /** Path and query below the cluster's server URL. */
  pathAndQuery: string;
  headers: Record<string, string | string[]>;
  /** Read whole already, streamed (proxy bodies), or none. */
  body: Buffer | Readable | null;
}

export interface ForwardDeps {
  pools: UpstreamPools;
  lifetimes: StreamLifetimes;
  concurrency: ConcurrencyPerIdentity;
  /** Upgraded connections leave the HTTP server's bookkeeping; close() ends them from here. */
  upgraded: Set<Duplex>;
  onFinish?: (scope: RequestScope) => void;
  log: (message: string) => void;
}

const UPGRADE_RESPONSE_TIMEOUT_MS = 30_000;
const MAX_REFUSAL_BYTES = 64 * 1024;

const unreachable = (scope: RequestScope, message: string) =>
  kubeStatus(502, `cannot reach the API server of cluster "${scope.cluster!.name}": ${message}`);

/** Throws (429) before anything is sent when the user already holds their share of the pool. */
export function forwardRequest(deps: ForwardDeps, req: IncomingMessage, res: ServerResponse, upstream: UpstreamRequest): void {
  const { scope } = upstream;
  const cluster = scope.cluster!;
  const user = scope.identity!.username;
  const connections = deps.pools.forCluster(cluster);
  const shared = !scope.streaming;
  if (shared) deps.concurrency.admit(user);
  // undici takes an emitter as its abort signal; it costs much less per request than an
  // AbortController. A client that goes away (an ended watch, a killed kubectl) cancels upstream.
  const abort = new EventEmitter();
  let aborted = false;
  const tracked = deps.lifetimes.track(scope, (reason) => {
    finishScope(scope, { status: res.headersSent ? res.statusCode : 0, ended: reason }, deps.onFinish, deps.log);
    res.destroy();
  });
  res.on('close', () => {
    deps.lifetimes.release(tracked);
    if (shared) deps.concurrency.release(user);
    const answered = res.writableFinished;
    if (!answered) {
      aborted = true;
      abort.emit('abort');
    }
    finishScope(
      scope,
      { status: res.headersSent ? res.statusCode : 0, ended: answered ? 'answered' : 'client closed' },
      deps.onFinish,
      deps.log,
    );
  });
  if (scope.streaming) {
    // A quiet watch is not idle: TCP keepalives hold it open; the certificate's end, or a
    // revocation found by the lifetime sweep, closes it.
    res.socket?.setTimeout(0);
    res.socket?.setKeepAlive(true, KEEPALIVE_MS);
  }
  (shared ? connections.pool : connections.streams)
    .stream(
      {
        path: upstreamPath(cluster, upstream.pathAndQuery),
        method: scope.method as 'GET',
        headers: upstream.headers,
        body: upstream.body,
        signal: abort,
      },
      ({ statusCode, headers }) => {
        scope.timings.upstreamHeadersMs = elapsedMs(scope);
        const outgoing = clientResponseHeaders(headers as Record<string, string | string[]>, scope.id);
        res.writeHead(statusCode, outgoing);
        // A body of unknown length is a stream (watch, logs -f, a proxied stream): its headers go out at once.
        if (outgoing['content-length'] === undefined) res.flushHeaders();
        return res;
      },
    )
    .catch((error: Error) => {
      if (aborted) return;
      deps.log(`upstream ${cluster.name}: ${error.message}`);
      if (res.headersSent) {
        finishScope(scope, { status: res.statusCode, ended: 'upstream failed', message: error.message }, deps.onFinish, deps.log);
        res.destroy();
      } else {
        const status =
          'status' in error && typeof error.status === 'number'
            ? kubeStatus(error.status, error.message)
            : unreachable(scope, error.message);
        finishScope(scope, { status: status.code, ended: 'upstream failed', message: status.message }, deps.onFinish, deps.log);
        sendStatus(res, status, { auditId: scope.id, close: upstream.body !== null && !Buffer.isBuffer(upstream.body) });
      }
    });
  if (upstream.body === null) req.resume();
}

/** Upgrades use a fresh connection that never returns to a pool, and are piped only after a 101. */
export function forwardUpgrade(deps: ForwardDeps, clientSocket: Duplex, head: Buffer, upstream: UpstreamRequest): void {
  const { scope } = upstream;
  const cluster = scope.cluster!;
  const server = cluster.server;
  const finish = (status: number, ended: Parameters<typeof finishScope>[1]['ended'], message?: string) =>
    finishScope(scope, { status, ended, ...(message ? { message } : {}) }, deps.onFinish, deps.log);
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
  // Until the 101 arrives, a client that leaves or an API server that stays silent ends the attempt.
  const cancel = () => {
    upstreamReq.destroy();
    finish(0, 'client closed');
  };
  clientSocket.once('close', cancel);
  upstreamReq.setTimeout(UPGRADE_RESPONSE_TIMEOUT_MS, () => {
    upstreamReq.destroy(new Error(`no answer to the upgrade within ${UPGRADE_RESPONSE_TIMEOUT_MS / 1000} s`));
  });
  upstreamReq.on('upgrade', (upstreamRes, upstreamSocket, upstreamHead) => {
    clientSocket.off('close', cancel);
    upstreamReq.setTimeout(0);
    scope.timings.upstreamHeadersMs = elapsedMs(scope);
    const asked = String(upstream.headers.upgrade ?? '').toLowerCase();
    const granted = String(upstreamRes.headers.upgrade ?? '').toLowerCase();
    if (upstreamRes.statusCode !== 101 || granted !== asked) {
      upstreamSocket.destroy();
      const status = kubeStatus(
        502,
        `the API server answered an upgrade to ${asked} with ${upstreamRes.statusCode} ${granted || '(no upgrade)'}`,
      );
      finish(status.code, 'upstream failed', status.message);
      sendStatusOnSocket(clientSocket, status, scope.id);
      return;
    }
    const lines = [`HTTP/1.1 101 ${upstreamRes.statusMessage || 'Switching Protocols'}`];
    for (let i = 0; i < upstreamRes.rawHeaders.length; i += 2) {
      if (upstreamRes.rawHeaders[i]!.toLowerCase() !== 'audit-id')
        lines.push(`${upstreamRes.rawHeaders[i]}: ${upstreamRes.rawHeaders[i + 1]}`);
    }
    lines.push(`Audit-Id: ${scope.id}`);
    clientSocket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (upstreamHead.length > 0) clientSocket.write(upstreamHead);
    if (head.length > 0) upstreamSocket.write(head);
    for (const socket of [clientSocket, upstreamSocket]) {
      const tcp = socket as Duplex & { setKeepAlive?: (on: boolean, delay: number) => void; setTimeout?: (ms: number) => void };
      tcp.setKeepAlive?.(true, KEEPALIVE_MS);
      tcp.setTimeout?.(0);
    }
    upstreamSocket.pipe(clientSocket);
    clientSocket.pipe(upstreamSocket);
    deps.upgraded.add(clientSocket);
    // exec, attach and port-forward end when the certificate that opened them does, or when
    // the sweep finds the user removed, revoked or no longer allowed.
    const tracked = deps.lifetimes.track(scope, (reason) => end(reason));
    const end = (reason: Parameters<typeof finish>[1]) => {
      deps.lifetimes.release(tracked);
      deps.upgraded.delete(clientSocket);
      finish(101, reason);
      upstreamSocket.destroy();
      clientSocket.destroy();
    };
    upstreamSocket.on('error', () => end('upstream failed')).on('close', () => end('answered'));
    clientSocket.on('error', () => end('client closed')).on('close', () => end('client closed'));
  });
  upstreamReq.on('response', (upstreamRes) => {
    clientSocket.off('close', cancel);
    upstreamReq.setTimeout(0);
    scope.timings.upstreamHeadersMs = elapsedMs(scope);
    // Not upgraded (for example a 403 Status): relay it so kubectl can print it or fall back.
    const lines = [`HTTP/1.1 ${upstreamRes.statusCode} ${upstreamRes.statusMessage ?? ''}`];
    const headers = clientResponseHeaders(upstreamRes.headers as Record<string, string | string[]>, scope.id);
    delete headers['content-length'];
    for (const [name, value] of Object.entries(headers)) for (const v of [value].flat()) lines.push(`${name}: ${v}`);
    const chunks: Buffer[] = [];
    let size = 0;
    upstreamRes.on('data', (chunk: Buffer) => {
      // A refusal is a short Status; anything this large is not one worth relaying whole.
      size += chunk.length;
      if (size > MAX_REFUSAL_BYTES) upstreamRes.destroy();
      else chunks.push(chunk);
    });
    upstreamRes.on('end', () => {
      const body = Buffer.concat(chunks);
      lines.push(`content-length: ${body.length}`, 'connection: close');
      finish(upstreamRes.statusCode ?? 0, 'answered');
      clientSocket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]));
    });
  });
  upstreamReq.on('error', (error) => {
    if (clientSocket.destroyed) return;
    deps.log(`upstream ${cluster.name} (upgrade): ${error.message}`);
    const status = unreachable(scope, error.message);
    finish(status.code, 'upstream failed', status.message);
    sendStatusOnSocket(clientSocket, status, scope.id);
  });
  clientSocket.on('error', () => upstreamReq.destroy());
  upstreamReq.end();
}
