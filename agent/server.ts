// The agent: TLS with a required client certificate, then for every request, upgrades included,
// authenticate → parse the target → authorize → rewrite headers → forward.
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { parseKubeTarget } from '../lib/core/request-target.js';
import { sourceBucket } from '../lib/core/source-bucket.js';
import type { Clock } from '../lib/core/ports.js';
import { authenticate } from './authenticate.js';
import { type AuthorizeDeps, authorize } from './authorize.js';
import { UpstreamPools, forwardRequest, forwardUpgrade, type UpstreamRequest } from './forward.js';
import { isDiscoveryRequest, sendStatus, sendStatusOnSocket, statusFromError } from './kube-status.js';
import { scanClientHeaders, upstreamHeaders } from './request-headers.js';

export interface AgentLimits {
  handshakeTimeoutMs: number;
  headersTimeoutMs: number;
  /** Idle time after which a connection without an open stream is closed. */
  idleTimeoutMs: number;
  /** Idle time allowed to a connection whose client certificate did not verify. */
  unauthenticatedIdleMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  /** Connections one client address may hold, so one client cannot take every slot. */
  maxConnectionsPerSource: number;
  /** How often open streams are authorized again. */
  streamRecheckMs: number;
}

export const defaultAgentLimits: AgentLimits = {
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  idleTimeoutMs: 2 * 3_600_000,
  unauthenticatedIdleMs: 10_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 4096,
  maxConnectionsPerSource: 256,
  streamRecheckMs: 5_000,
};

export interface AgentDeps extends AuthorizeDeps {
  tls: { certPem: string; keyPem: string };
  userCaPems: string[];
  clock: Clock;
  log: (message: string) => void;
  limits?: Partial<AgentLimits>;
}

export interface Agent {
  server: https.Server;
  listen(port: number, host: string): Promise<{ port: number; host: string }>;
  /** Swaps the server certificate in place (renewal) without dropping connections. */
  renewServerCertificate(certPem: string, keyPem: string): void;
  close(): Promise<void>;
}

export function createAgent(deps: AgentDeps): Agent {
  const limits = { ...defaultAgentLimits, ...deps.limits };
  const pools = new UpstreamPools();
  // Upgraded connections leave the HTTP server's bookkeeping; close() ends them from here.
  const streams = new Set<Duplex>();
  const secureOptions = (certPem: string, keyPem: string) => ({
    cert: certPem,
    key: keyPem,
    ca: deps.userCaPems,
    requestCert: true,
    // Verification failures are answered with a 401 Status that says why, not a bare handshake error.
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2' as const,
    ALPNProtocols: ['http/1.1'],
  });
  const server = https.createServer({ ...secureOptions(deps.tls.certPem, deps.tls.keyPem), handshakeTimeout: limits.handshakeTimeoutMs });
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = 0;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.timeout = limits.idleTimeoutMs;
  server.maxConnections = limits.maxConnections;

  const plan = async (req: IncomingMessage, isUpgrade: boolean): Promise<UpstreamRequest> => {
    const identity = authenticate(req.socket as TLSSocket, deps.clock);
    const target = parseKubeTarget(req.url ?? '');
    const scanned = scanClientHeaders(req.rawHeaders);
    // An Upgrade header on a request Node did not treat as an upgrade is not one.
    const client = isUpgrade ? scanned : { ...scanned, upgrade: undefined };
    const decision = await authorize(deps, identity, target.cluster, client.impersonation);
    const token = decision.cluster.bearerToken ? await decision.cluster.bearerToken() : undefined;
    return {
      cluster: decision.cluster,
      method: req.method ?? 'GET',
      pathAndQuery: `${target.path}${target.query}`,
      hasBody: client.contentLength !== undefined ? client.contentLength > 0 : client.chunked,
      streaming: isStreamingTarget(target.path, target.query),
      notAfter: identity.notAfter,
      recheck: () => authorize(deps, identity, target.cluster, client.impersonation),
      recheckEveryMs: limits.streamRecheckMs,
      headers: upstreamHeaders({
        rawHeaders: req.rawHeaders,
        client,
        principals: decision.principals,
        ...(token ? { bearerToken: token } : {}),
        forwardedFor: req.socket.remoteAddress ?? '',
        forwardedHost: req.headers.host ?? '',
      }),
    };
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    plan(req, false)
      .then((upstream) => forwardRequest(req, res, upstream, pools, deps.clock, deps.log))
      .catch((error: unknown) => {
        req.resume();
        const status = statusFromError(error, deps.log);
        sendStatus(res, status, { asText: isDiscoveryRequest(req.method, req.url), close: status.code === 401 });
      });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    plan(req, true)
      .then((upstream) => forwardUpgrade(socket, head, upstream, pools, streams, deps.clock, deps.log))
      .catch((error: unknown) => sendStatusOnSocket(socket, statusFromError(error, deps.log)));
  });

  const perSource = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const source = sourceBucket(socket.remoteAddress ?? '');
    const count = (perSource.get(source) ?? 0) + 1;
    if (count > limits.maxConnectionsPerSource) {
      socket.destroy();
      return;
    }
    perSource.set(source, count);
    socket.once('close', () => {
      const left = (perSource.get(source) ?? 1) - 1;
      if (left === 0) perSource.delete(source);
      else perSource.set(source, left);
    });
  });

  // A connection without a valid certificate gets its 401 and little time: it must not hold one
  // of the capped connection slots for the idle timeout of real clients.
  server.on('secureConnection', (socket: TLSSocket) => {
    if (!socket.authorized) socket.setTimeout(limits.unauthenticatedIdleMs);
  });
  server.on('tlsClientError', () => undefined);

  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          resolve({ port: typeof address === 'object' && address ? address.port : port, host });
        });
      }),
    renewServerCertificate: (certPem, keyPem) => server.setSecureContext(secureOptions(certPem, keyPem)),
    close: () =>
      new Promise((resolve) => {
        void pools.close();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const stream of streams) stream.destroy();
      }),
  };
}

/**
 * Watches and followed logs hold their connection for as long as they run. As the API server
 * reads these flags, any value but 0 or false (an empty one included) turns them on.
 */
function isStreamingTarget(path: string, query: string): boolean {
  const params = new URLSearchParams(query);
  const on = (name: string) => params.getAll(name).some((value) => !/^(0|false)$/i.test(value));
  return on('watch') || on('follow') || path.includes('/watch/');
}
