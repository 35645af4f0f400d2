// Carries a request to the cluster and the answer back, streaming both ways: no buffering of
// watch or logs, and upgraded (exec, attach, port-forward) connections piped byte for byte.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { Pool } from 'undici';
import { clientResponseHeaders } from './request-headers.js';
import { kubeStatus, sendStatus, sendStatusOnSocket } from './kube-status.js';
import type { UpstreamCluster } from './upstream.js';
import { definedOnly } from '../lib/core/objects.js';
import type { Clock } from '../lib/core/ports.js';
import { guardStream } from './stream-guard.js';

export interface UpstreamRequest {
  cluster: UpstreamCluster;
  method: string;
  /** Path and query below the cluster's server URL. */
  pathAndQuery: string;
  headers: Record<string, string | string[]>;
  /** Whether the client sends a body (Content-Length or chunked). */
  hasBody: boolean;
  /** A watch or followed log: it holds a connection for as long as it runs. */
  streaming: boolean;
  /** When the client's certificate ends; open streams end with it. */
  notAfter: Date;
  /** Authorizes the request again as things are now; rejects when it is no longer allowed. */
  recheck: () => Promise<unknown>;
  recheckEveryMs: number;
}

const KEEPALIVE_MS = 30_000;
const UPGRADE_RESPONSE_TIMEOUT_MS = 30_000;
const MAX_REFUSAL_BYTES = 64 * 1024;
/** setTimeout's ceiling; certificates last at most 30 h, longer than this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface ClusterConnections {
  pool: Pool;
  /** Watches and log streams get connections of their own, so they cannot starve the pool. */
  streams: Pool;
  secureContext: tls.SecureContext;
}

/**
 * One keep-alive pool per cluster endpoint. undici's pool costs far less CPU per request than
 * node:https; the TLS context is built once per cluster instead of per connection.
 */
export class UpstreamPools {
  private readonly clusters = new Map<string, ClusterConnections>();

  forCluster(cluster: UpstreamCluster): ClusterConnections {
    const key = `${cluster.name}|${cluster.server.origin}`;
    let entry = this.clusters.get(key);
    if (!entry) {
      const secureContext = tls.createSecureContext(definedOnly({ ca: cluster.tls.ca, cert: cluster.tls.cert, key: cluster.tls.key }));
      const connect = definedOnly({
        secureContext,
        servername: cluster.tls.servername,
        rejectUnauthorized: cluster.tls.insecureSkipVerify !== true,
        ALPNProtocols: ['http/1.1'],
      });
      const pool = new Pool(cluster.server.origin, { connections: 256, keepAliveTimeout: KEEPALIVE_MS, headersTimeout: 60_000, connect });
      // Long watches and log streams must not be cut by the agent's client side.
      const streams = new Pool(cluster.server.origin, { keepAliveTimeout: KEEPALIVE_MS, headersTimeout: 60_000, bodyTimeout: 0, connect });
      entry = { pool, streams, secureContext };
      this.clusters.set(key, entry);
    }
    return entry;
  }

  async close(): Promise<void> {
    const pools = [...this.clusters.values()].flatMap((c) => [c.pool.destroy(), c.streams.destroy()]);
    this.clusters.clear();
    await Promise.allSettled(pools);
  }
}

function upstreamPath(upstream: UpstreamRequest): string {
  return `${upstream.cluster.server.pathname.replace(/\/$/, '')}${upstream.pathAndQuery}`;
}

export function forwardRequest(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: UpstreamRequest,
  pools: UpstreamPools,
  clock: Clock,
  log: (message: string) => void,
): void {
  // undici takes an emitter as its abort signal; it costs much less per request than an
  // AbortController. A client that goes away (an ended watch, a killed kubectl) cancels upstream.
  const abort = new EventEmitter();
  let aborted = false;
  res.on('close', () => {
    if (res.writableFinished) return;
    aborted = true;
    abort.emit('abort');
  });
  const connections = pools.forCluster(upstream.cluster);
  const pool = upstream.streaming ? connections.streams : connections.pool;
  if (upstream.streaming) {
    // A quiet watch is not idle: TCP keepalives hold it open; the certificate's end, or a
    // revocation found by the guard, closes it.
    res.socket?.setTimeout(0);
    res.socket?.setKeepAlive(true, KEEPALIVE_MS);
    const expiry = setTimeout(() => res.destroy(), Math.min(MAX_TIMER_MS, upstream.notAfter.getTime() - clock.now().getTime()));
    const stopGuard = guardStream(upstream.recheck, () => res.destroy(), upstream.recheckEveryMs);
    res.on('close', () => {
      clearTimeout(expiry);
      stopGuard();
    });
  }
  pool
    .stream(
      {
        path: upstreamPath(upstream),
        method: upstream.method as 'GET',
        headers: upstream.headers,
        body: upstream.hasBody ? req : null,
        signal: abort,
      },
      ({ statusCode, headers }) => {
        const outgoing = clientResponseHeaders(headers as Record<string, string | string[]>);
        res.writeHead(statusCode, outgoing);
        // A body of unknown length is a stream (watch, logs -f): its headers go out at once.
        if (outgoing['content-length'] === undefined) res.flushHeaders();
        return res;
      },
    )
    .catch((error: Error) => {
      if (aborted) return;
      log(`upstream ${upstream.cluster.name}: ${error.message}`);
      if (res.headersSent) res.destroy();
      else sendStatus(res, kubeStatus(502, `cannot reach the API server of cluster "${upstream.cluster.name}": ${error.message}`));
    });
  if (!upstream.hasBody) req.resume();
}

/** Upgrades use a fresh connection that never returns to a pool, and are piped only after a 101. */
export function forwardUpgrade(
  clientSocket: Duplex,
  head: Buffer,
  upstream: UpstreamRequest,
  pools: UpstreamPools,
  streams: Set<Duplex>,
  clock: Clock,
  log: (message: string) => void,
): void {
  const { secureContext } = pools.forCluster(upstream.cluster);
  const server = upstream.cluster.server;
  const upstreamReq = https.request({
    protocol: 'https:',
    hostname: server.hostname.replace(/^\[|\]$/g, ''),
    port: server.port || 443,
    method: upstream.method,
    path: upstreamPath(upstream),
    headers: { ...upstream.headers, host: server.host },
    agent: false,
    secureContext,
    ...(upstream.cluster.tls.servername ? { servername: upstream.cluster.tls.servername } : {}),
    rejectUnauthorized: upstream.cluster.tls.insecureSkipVerify !== true,
    ALPNProtocols: ['http/1.1'],
  } as https.RequestOptions);
  // Until the 101 arrives, a client that leaves or an API server that stays silent ends the attempt.
  const cancel = () => upstreamReq.destroy();
  clientSocket.once('close', cancel);
  upstreamReq.setTimeout(UPGRADE_RESPONSE_TIMEOUT_MS, () => {
    upstreamReq.destroy(new Error(`no answer to the upgrade within ${UPGRADE_RESPONSE_TIMEOUT_MS / 1000} s`));
  });
  upstreamReq.on('upgrade', (upstreamRes, upstreamSocket, upstreamHead) => {
    clientSocket.off('close', cancel);
    upstreamReq.setTimeout(0);
    const asked = String(upstream.headers.upgrade ?? '').toLowerCase();
    const granted = String(upstreamRes.headers.upgrade ?? '').toLowerCase();
    if (upstreamRes.statusCode !== 101 || granted !== asked) {
      upstreamSocket.destroy();
      sendStatusOnSocket(clientSocket, kubeStatus(502, `the API server answered an upgrade to ${asked} with ${upstreamRes.statusCode} ${granted || '(no upgrade)'}`));
      return;
    }
    const lines = [`HTTP/1.1 101 ${upstreamRes.statusMessage || 'Switching Protocols'}`];
    for (let i = 0; i < upstreamRes.rawHeaders.length; i += 2) lines.push(`${upstreamRes.rawHeaders[i]}: ${upstreamRes.rawHeaders[i + 1]}`);
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
    streams.add(clientSocket);
    // exec, attach and port-forward end when the certificate that opened them does, or when
    // the guard finds the user removed, revoked or no longer allowed.
    const expiry = setTimeout(() => end(), Math.min(MAX_TIMER_MS, upstream.notAfter.getTime() - clock.now().getTime()));
    const stopGuard = guardStream(upstream.recheck, () => end(), upstream.recheckEveryMs);
    const end = () => {
      clearTimeout(expiry);
      stopGuard();
      streams.delete(clientSocket);
      upstreamSocket.destroy();
      clientSocket.destroy();
    };
    upstreamSocket.on('error', end).on('close', end);
    clientSocket.on('error', end).on('close', end);
  });
  upstreamReq.on('response', (upstreamRes) => {
    clientSocket.off('close', cancel);
    upstreamReq.setTimeout(0);
    // Not upgraded (for example a 403 Status): relay it so kubectl can print it or fall back.
    const lines = [`HTTP/1.1 ${upstreamRes.statusCode} ${upstreamRes.statusMessage ?? ''}`];
    const headers = clientResponseHeaders(upstreamRes.headers as Record<string, string | string[]>);
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
      clientSocket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]));
    });
  });
  upstreamReq.on('error', (error) => {
    if (clientSocket.destroyed) return;
    log(`upstream ${upstream.cluster.name} (upgrade): ${error.message}`);
    sendStatusOnSocket(clientSocket, kubeStatus(502, `cannot reach the API server of cluster "${upstream.cluster.name}": ${error.message}`));
  });
  clientSocket.on('error', () => upstreamReq.destroy());
  upstreamReq.end();
}
