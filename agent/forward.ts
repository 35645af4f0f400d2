// Carries a request to the cluster and the answer back, streaming both ways: no buffering of
// watch or logs, and upgraded (exec, attach, port-forward) connections piped byte for byte.
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { clientResponseHeaders } from './request-headers.js';
import { kubeStatus, sendStatus, sendStatusOnSocket } from './kube-status.js';
import type { UpstreamCluster } from './upstream.js';

export interface UpstreamRequest {
  cluster: UpstreamCluster;
  method: string;
  /** Path and query below the cluster's server URL. */
  pathAndQuery: string;
  headers: Record<string, string | string[]>;
}

const KEEPALIVE_MS = 30_000;

/** One keep-alive pool per cluster endpoint and credential set. */
export class UpstreamPools {
  private readonly pools = new Map<string, https.Agent>();

  forCluster(cluster: UpstreamCluster): https.Agent {
    const key = `${cluster.name}|${cluster.server.href}`;
    let agent = this.pools.get(key);
    if (!agent) {
      agent = new https.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo', ...tlsOptions(cluster) });
      this.pools.set(key, agent);
    }
    return agent;
  }

  close(): void {
    for (const agent of this.pools.values()) agent.destroy();
    this.pools.clear();
  }
}

function tlsOptions(cluster: UpstreamCluster): https.AgentOptions {
  return {
    ...(cluster.tls.ca ? { ca: cluster.tls.ca } : {}),
    ...(cluster.tls.cert ? { cert: cluster.tls.cert } : {}),
    ...(cluster.tls.key ? { key: cluster.tls.key } : {}),
    ...(cluster.tls.servername ? { servername: cluster.tls.servername } : {}),
    rejectUnauthorized: cluster.tls.insecureSkipVerify !== true,
  };
}

function requestOptions(upstream: UpstreamRequest): https.RequestOptions {
  const base = upstream.cluster.server.pathname.replace(/\/$/, '');
  return {
    protocol: 'https:',
    hostname: upstream.cluster.server.hostname.replace(/^\[|\]$/g, ''),
    port: upstream.cluster.server.port || 443,
    method: upstream.method,
    path: `${base}${upstream.pathAndQuery}`,
    headers: upstream.headers,
  };
}

export function forwardRequest(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: UpstreamRequest,
  pools: UpstreamPools,
  log: (message: string) => void,
): void {
  const upstreamReq = https.request({ ...requestOptions(upstream), agent: pools.forCluster(upstream.cluster) }, (upstreamRes) => {
    res.writeHead(upstreamRes.statusCode ?? 502, clientResponseHeaders(upstreamRes.rawHeaders));
    // Headers go out at once, so kubectl sees a watch start before its first event.
    res.flushHeaders();
    upstreamRes.pipe(res);
    upstreamRes.on('error', () => res.destroy());
  });
  upstreamReq.on('error', (error) => {
    log(`upstream ${upstream.cluster.name}: ${error.message}`);
    sendStatus(res, kubeStatus(502, `cannot reach the API server of cluster "${upstream.cluster.name}": ${error.message}`));
  });
  res.on('close', () => {
    if (!res.writableFinished) upstreamReq.destroy();
  });
  req.pipe(upstreamReq);
}

/** Upgrades use a fresh connection that never returns to a pool, and are piped only after a 101. */
export function forwardUpgrade(
  clientSocket: Duplex,
  head: Buffer,
  upstream: UpstreamRequest,
  streams: Set<Duplex>,
  log: (message: string) => void,
): void {
  const options = { ...requestOptions(upstream), agent: false, ...tlsOptions(upstream.cluster), ALPNProtocols: ['http/1.1'] };
  const upstreamReq = https.request(options as https.RequestOptions);
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
    const headers = clientResponseHeaders(upstreamRes.rawHeaders);
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
