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

export interface UpstreamRequest {
  cluster: UpstreamCluster;
  method: string;
  /** Path and query below the cluster's server URL. */
  pathAndQuery: string;
  headers: Record<string, string | string[]>;
  /** Whether the client sends a body (Content-Length or chunked). */
  hasBody: boolean;
}

const KEEPALIVE_MS = 30_000;

interface ClusterConnections {
  pool: Pool;
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
      const pool = new Pool(cluster.server.origin, {
        connections: 256,
        keepAliveTimeout: KEEPALIVE_MS,
        // Long watches and log streams must not be cut by the client side.
        bodyTimeout: 0,
        headersTimeout: 60_000,
        connect: definedOnly({
          secureContext,
          servername: cluster.tls.servername,
          rejectUnauthorized: cluster.tls.insecureSkipVerify !== true,
          ALPNProtocols: ['http/1.1'],
        }),
      });
      entry = { pool, secureContext };
      this.clusters.set(key, entry);
    }
    return entry;
  }

  async close(): Promise<void> {
    const pools = [...this.clusters.values()].map((c) => c.pool.destroy());
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
  const { pool } = pools.forCluster(upstream.cluster);
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
  upstreamReq.on('upgrade', (upstreamRes, upstreamSocket, upstreamHead) => {
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
    const end = () => {
      streams.delete(clientSocket);
      upstreamSocket.destroy();
      clientSocket.destroy();
    };
    upstreamSocket.on('error', end).on('close', end);
    clientSocket.on('error', end).on('close', end);
  });
  upstreamReq.on('response', (upstreamRes) => {
    // Not upgraded (for example a 403 Status): relay it so kubectl can print it or fall back.
    const lines = [`HTTP/1.1 ${upstreamRes.statusCode} ${upstreamRes.statusMessage ?? ''}`];
    const headers = clientResponseHeaders(upstreamRes.headers as Record<string, string | string[]>);
    delete headers['content-length'];
    for (const [name, value] of Object.entries(headers)) for (const v of [value].flat()) lines.push(`${name}: ${v}`);
    const chunks: Buffer[] = [];
    upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
    upstreamRes.on('end', () => {
      const body = Buffer.concat(chunks);
      lines.push(`content-length: ${body.length}`, 'connection: close');
      clientSocket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]));
    });
  });
  upstreamReq.on('error', (error) => {
    log(`upstream ${upstream.cluster.name} (upgrade): ${error.message}`);
    sendStatusOnSocket(clientSocket, kubeStatus(502, `cannot reach the API server of cluster "${upstream.cluster.name}": ${error.message}`));
  });
  clientSocket.on('error', () => upstreamReq.destroy());
  upstreamReq.end();
}

function definedOnly<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
