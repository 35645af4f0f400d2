// The agent: TLS with a required client certificate, connection limits, and for every request,
// upgrades included, the pipeline of pipeline.ts over one RequestScope.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { sourceBucket } from '../lib/core/source-bucket.js';
import type { AuditSink, Clock, ClusterHealthView, RecordingStore } from '../lib/core/ports.js';
import { authenticate } from './authenticate.js';
import type { AuthorizeDeps } from './authorize.js';
import { type LockWatcher, endLockedStreams } from './locks.js';
import { ConcurrencyPerIdentity } from './identity-concurrency.js';
import { type PipelineDeps, handleRequest, handleUpgrade, reauthorize } from './pipeline.js';
import { type RequestScope, finishScope } from './request-scope.js';
import { RequestAudit } from './request-audit.js';
import { finishHooks } from './finish-hooks.js';
import { countHead, doorScope, refusedHead, rememberFirstHead } from './door-refusals.js';
import { answerHealth, isHealthRequest } from './health.js';
import { Drain } from './drain.js';
import { type KubeStatus, discoveryStatus, isDiscoveryRequest, kubeStatus, sendStatus, sendStatusOnSocket } from './kube-status.js';
import { Sessions } from './sessions.js';
import { StreamLifetimes } from './stream-lifetime.js';
import { UpstreamPools } from './upstream-pools.js';

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
  /** How often open responses and upgraded connections are checked for expiry and authorized again. */
  streamRecheckMs: number;
  /** How often a part of each running session's recording is stored (a crash loses no more than this). */
  recordingPartMs: number;
  /** Time an ended session's recording has to be stored (retried until then); close() waits for no longer. */
  recordingFinishMs: number;
  /**
   * Parts of one recording stored at once. More record more of heavy output before the held-bytes
   * bound leaves it out, at the cost of the agent's CPU (and so the stream's speed) when the store
   * runs in the agent's process, as in local mode.
   */
  recordingPartsInFlight: number;
  /** Largest recording of one session; past it, recording stops with a marker (a user could fill the store otherwise). */
  maxRecordingBytes: number;
  /** Recording bytes held in memory by all sessions together (ended ones still storing included); past it, output is left out and counted. */
  maxHeldRecordingBytes: number;
  /** Largest request body read into memory before forwarding; larger ones get 413 (proxy bodies stream). */
  maxBodyBytes: number;
  /** Time a request body may take to arrive (each chunk, for streamed proxy bodies); then 408. */
  bodyTimeoutMs: number;
  /** Connections of the shared pool toward each cluster. */
  upstreamConnectionsPerCluster: number;
  /** Ordinary requests one user may have in flight on that pool at once; more get 429. */
  maxUpstreamRequestsPerUser: number;
  /** Watches, followed logs, streamed proxy bodies and upgrades one user may hold open at once; more get 429. */
  maxStreamsPerUser: number;
  /** Connections toward each cluster for those streams, all users together. */
  streamConnectionsPerCluster: number;
  /** Time the API server has to answer an upgrade, including the whole body of an answer that is not a 101. */
  upgradeAnswerTimeoutMs: number;
  /** Largest request head (request line and headers); larger ones get a 431 Status. */
  maxHeaderBytes: number;
  /** How often discovery requests, counted per user and cluster, are reported as kube.discovery events. */
  discoveryReportMs: number;
  /** How often the trusted user CAs are read again (a CA rotation reaches the agent within this). */
  trustRefreshMs: number;
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
  recordingPartMs: 5_000,
  recordingFinishMs: 30_000,
  recordingPartsInFlight: 4,
  maxRecordingBytes: 512 * 1024 * 1024,
  maxHeldRecordingBytes: 256 * 1024 * 1024,
  // The Kubernetes API server's own limit on request bodies.
  maxBodyBytes: 3 * 1024 * 1024,
  bodyTimeoutMs: 30_000,
  upstreamConnectionsPerCluster: 256,
  maxUpstreamRequestsPerUser: 32,
  maxStreamsPerUser: 64,
  streamConnectionsPerCluster: 1024,
  upgradeAnswerTimeoutMs: 30_000,
  // Node's default. A kubectl request is well under 4 KiB; client certificates, not tokens, carry identity here.
  maxHeaderBytes: 16 * 1024,
  discoveryReportMs: 60_000,
  trustRefreshMs: 5_000,
};

export interface AgentDeps extends AuthorizeDeps {
  tls: { certPem: string; keyPem: string };
  /** The user CA certificates to trust now (they change during a CA rotation); read at listen and every trustRefreshMs. */
  trustedUserCas: () => Promise<string[]>;
  clock: Clock;
  log: (message: string) => void;
  limits?: Partial<AgentLimits>;
  /** The id of each request (Audit-ID upstream); random UUIDs unless a test fixes them. */
  newRequestId?: () => string;
  /** Called once per request when it is answered, refused or ended, with everything known about it. */
  onFinish?: (scope: RequestScope) => void;
  /** The lock view (polls the store): the agent starts it before listening and closes it with itself. */
  locks?: LockWatcher;
  /** Where kube.request and session events go (batched, spooled when the store is down); none: not audited. */
  audit?: AuditSink;
  /** Where interactive sessions are recorded; none: not recorded. */
  recordings?: RecordingStore;
  /** The agent's own latest health of each cluster: requests to an unhealthy one get a 503 naming the reason and fix. None: never refused for health. */
  clusterHealth?: ClusterHealthView;
}

export interface Agent {
  server: https.Server;
  listen(port: number, host: string): Promise<{ port: number; host: string }>;
  /** Swaps the server certificate in place (renewal) without dropping connections. */
  renewServerCertificate(certPem: string, keyPem: string): void;
  /** Reads the trusted user CAs now and, if they changed, trusts them from the next handshake on (open connections stay). */
  refreshTrust(): Promise<void>;
  /**
   * Stops gracefully (SIGTERM): no new connections or requests, requests in flight answered,
   * idle connections closed, open streams left to run until `deadlineMs` from now, then ended
   * with a message the user sees. Resolves once everything is closed. Called again, it can only
   * bring the deadline nearer (a second Ctrl-C: `drain(0)`).
   */
  drain(deadlineMs: number, onProgress?: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}

export function createAgent(deps: AgentDeps): Agent {
  const limits = { ...defaultAgentLimits, ...deps.limits };
  const pools = new UpstreamPools(limits.upstreamConnectionsPerCluster, limits.streamConnectionsPerCluster);
  const authorizeDeps: AuthorizeDeps = {
    clusters: deps.clusters,
    loadRoles: deps.loadRoles,
    loadUser: deps.loadUser,
    ...(deps.locks ? { locks: deps.locks } : {}),
    ...(deps.audit ? { audit: deps.audit } : {}),
  };
  const newRequestId = deps.newRequestId ?? randomUUID;
  const requestAudit = deps.audit
    ? new RequestAudit({ sink: deps.audit, clock: deps.clock, newId: randomUUID, discoveryPeriodMs: limits.discoveryReportMs })
    : undefined;
  // Every request, refused ones included, ends here once: its audit event, then the embedder's hook.
  const onFinish = finishHooks([requestAudit?.finished, deps.onFinish], deps.log);
  const lifetimes = new StreamLifetimes(
    deps.clock,
    (scope) => reauthorize(authorizeDeps, scope),
    limits.streamRecheckMs,
    (scope) => deps.locks?.refusalFor(scope.identity!, scope.lockMode),
  );
  const stopEndingLocked = deps.locks ? endLockedStreams(deps.locks, lifetimes, deps.log) : undefined;
  const sessions =
    deps.audit || deps.recordings
      ? new Sessions({
          clock: deps.clock,
          log: deps.log,
          recorder: {
            partIntervalMs: limits.recordingPartMs,
            partsInFlight: limits.recordingPartsInFlight,
            maxRecordingBytes: limits.maxRecordingBytes,
          },
          finishMs: limits.recordingFinishMs,
          maxHeldRecordingBytes: limits.maxHeldRecordingBytes,
          ...(deps.audit ? { audit: deps.audit } : {}),
          ...(deps.recordings ? { recordings: deps.recordings } : {}),
        })
      : undefined;
  /** Upgraded connections leave the HTTP server's bookkeeping; close() ends them from here. */
  const upgraded = new Set<Duplex>();
  const pipeline: PipelineDeps = {
    ...authorizeDeps,
    clock: deps.clock,
    log: deps.log,
    body: { maxBodyBytes: limits.maxBodyBytes, bodyTimeoutMs: limits.bodyTimeoutMs },
    newRequestId,
    pools,
    lifetimes,
    concurrency: new ConcurrencyPerIdentity(limits.maxUpstreamRequestsPerUser, 'requests'),
    streamConcurrency: new ConcurrencyPerIdentity(limits.maxStreamsPerUser, 'streams (watches, followed logs, streamed bodies, upgrades)'),
    upgradeAnswerTimeoutMs: limits.upgradeAnswerTimeoutMs,
    ...(onFinish ? { onFinish } : {}),
    ...(sessions ? { sessions } : {}),
    ...(deps.clusterHealth ? { clusterHealth: deps.clusterHealth } : {}),
  };
  /** Refuses a request before the pipeline (a drain, the HTTP parser), recording it as any other. */
  const refuseAtDoor = (scope: RequestScope, status: KubeStatus, ended: 'answered' | 'agent draining') =>
    finishScope(scope, { status: status.code, ended, message: status.message }, onFinish, deps.log);
  // What the TLS context is built from; each changes in place (renewal, CA rotation).
  let serverTls = deps.tls;
  let userCas: string[] = [];
  const secureOptions = (certPem: string, keyPem: string) => ({
    cert: certPem,
    key: keyPem,
    ca: userCas,
    requestCert: true,
    // Verification failures are answered with a 401 Status that says why, not a bare handshake error.
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2' as const,
    ALPNProtocols: ['http/1.1'],
  });
  const server = https.createServer({
    ...secureOptions(deps.tls.certPem, deps.tls.keyPem),
    handshakeTimeout: limits.handshakeTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes,
    // Node would answer a request without Host itself (a bare 400 the agent never sees, so never
    // audited); the pipeline refuses it instead, with a Status and an event.
    requireHostHeader: false,
    // headersTimeout is enforced by a sweep at this interval (Node's default, 30 s, would let a
    // slow sender hold a slot for twice the limit). Only requests still sending headers are
    // checked: a long watch or an upgraded connection never is.
    connectionsCheckingInterval: Math.max(1_000, Math.min(30_000, limits.headersTimeoutMs / 2)),
  });
  // Timeouts, and why none of them cuts a long stream: headersTimeout covers only the request's
  // head; requestTimeout is off (a watch or an exec is one request that lasts for hours);
  // keepAliveTimeout covers only the gap between two requests; the idle timeout (socket timeout)
  // is set to 0 on a connection once it carries a stream or an upgrade (forward.ts,
  // forward-upgrade.ts), where TCP keepalive takes over. Streams end with the certificate or the
  // user's access (StreamLifetimes), not with silence.
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = 0;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.timeout = limits.idleTimeoutMs;
  server.maxConnections = limits.maxConnections;

  let draining: Drain | undefined;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    countHead(req.socket);
    // The one answer given without a client certificate (load balancers); its audit counters only with one.
    if (isHealthRequest(req)) {
      const certified = hasValidCertificate(req.socket as TLSSocket, deps.clock.now());
      return answerHealth(req, res, { draining: draining !== undefined, audit: deps.audit, certified });
    }
    if (!draining) return handleRequest(pipeline, req, res);
    const scope = doorScope(pipeline, doorRequest(req, false));
    const asText = isDiscoveryRequest(req.method, req.url);
    const status = asText ? discoveryStatus(drainRefusal) : drainRefusal;
    refuseAtDoor(scope, status, 'agent draining');
    refuseWhileDraining(req, res, scope.id, status, asText);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // From here the HTTP server no longer times out or closes this socket: the agent does, so a
    // refused upgrade whose client never closes still goes with close() and a drain.
    countHead(socket);
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    if (!draining) return handleUpgrade(pipeline, req, socket, head);
    const scope = doorScope(pipeline, doorRequest(req, true));
    refuseAtDoor(scope, drainRefusal, 'agent draining');
    sendStatusOnSocket(socket, drainRefusal, scope.id);
  });

  // An Expect other than 100-continue (which Node answers itself, then hands the request over as
  // any other): Node's own answer would be a bare 417 the agent never sees, so never audited.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    countHead(req.socket);
    const scope = doorScope(pipeline, doorRequest(req, false));
    const status = expectationRefusal(req.headers.expect ?? '');
    refuseAtDoor(scope, status, 'answered');
    // The body, if any, is never read: the connection closes after the answer.
    sendStatus(res, status, { close: true, auditId: scope.id, asText: isDiscoveryRequest(req.method, req.url) });
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
    rememberFirstHead(socket);
  });
  server.on('tlsClientError', () => undefined);
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer; bytesParsed?: number }, socket: Duplex) => {
    const status = clientErrorStatus(error, socket, limits);
    if (!status) return;
    const head = refusedHead(error, socket);
    const scope = doorScope(pipeline, { ...head, upgrade: false, socket: socket as TLSSocket });
    refuseAtDoor(scope, status, 'answered');
    // The rest of the request is never read; a client that does not close is dropped soon after.
    sendStatusOnSocket(socket, status, scope.id);
  });

  const refreshTrust = async () => {
    const cas = await deps.trustedUserCas();
    if (cas.length === 0) throw new Error('no user CA to trust');
    if (cas.join('\n') === userCas.join('\n')) return;
    userCas = [...cas];
    server.setSecureContext(secureOptions(serverTls.certPem, serverTls.keyPem));
  };
  let trustRefresh: NodeJS.Timeout | undefined;

  const close = async (): Promise<void> => {
    clearInterval(trustRefresh);
    await new Promise<void>((resolve) => {
      stopEndingLocked?.();
      deps.locks?.close();
      lifetimes.close();
      void pools.close();
      server.close(() => {
        // Whatever was counted goes to the sink before its owner flushes it.
        requestAudit?.close();
        resolve();
      });
      server.closeAllConnections();
      for (const socket of upgraded) socket.destroy();
    });
    // The sessions cut short still get their events, and their recordings' last parts are stored.
    await sessions?.close();
  };

  return {
    server,
    listen: async (port, host) => {
      // No request is served before the locks have been read once (or found unreadable), nor
      // before the user CAs are known.
      await deps.locks?.start();
      await refreshTrust();
      trustRefresh = setInterval(() => {
        // The CAs trusted last stay trusted while the store does not answer.
        refreshTrust().catch((e: unknown) => deps.log(`reading the trusted user CAs failed: ${String(e)}`));
      }, limits.trustRefreshMs);
      trustRefresh.unref();
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          resolve({ port: typeof address === 'object' && address ? address.port : port, host });
        });
      });
    },
    renewServerCertificate: (certPem, keyPem) => {
      serverTls = { certPem, keyPem };
      server.setSecureContext(secureOptions(certPem, keyPem));
    },
    refreshTrust,
    drain: (deadlineMs, onProgress = () => undefined) => {
      if (draining) {
        draining.shorten(deadlineMs);
        return draining.done;
      }
      draining = new Drain({ server, lifetimes, close, clock: deps.clock, onProgress }, deadlineMs);
      return draining.done;
    },
    close,
  };
}

const drainRefusal = kubeStatus(
  503,
  'the Kubeport agent is shutting down and takes no new requests; run the command again once it is back (or through another agent)',
);

/** 417: the agent (like the API server) fulfils no expectation but 100-continue. */
function expectationRefusal(expect: string): KubeStatus {
  return kubeStatus(
    417,
    `the Kubeport agent cannot meet the request's expectation (Expect: ${expect.slice(0, 64)}); send the request without an Expect header, or with Expect: 100-continue`,
  );
}

/**
 * The answer to a request the HTTP parser refused before the agent saw it, or undefined when the
 * client is gone (the socket is then destroyed). Node would answer a bare 431 (or 400, 408) with
 * no body, which kubectl prints as an unexplained status code; a Status says why.
 * 431 (Request Header Fields Too Large, RFC 6585) rather than 413: it names the part that is too
 * large, and it is what the API server's own HTTP server answers for the same request.
 */
function clientErrorStatus(error: NodeJS.ErrnoException, socket: Duplex, limits: AgentLimits): KubeStatus | undefined {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return undefined;
  }
  return error.code === 'HPE_HEADER_OVERFLOW'
    ? kubeStatus(
        431,
        `the request's headers are larger than the Kubeport agent accepts (${limits.maxHeaderBytes / 1024} KiB in all); send fewer or shorter headers (--as-group values, a kubeconfig's extra headers)`,
      )
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? kubeStatus(
          408,
          `the request's headers did not arrive within ${limits.headersTimeoutMs / 1000} s; check the network, then try again`,
        )
      : kubeStatus(400, `the request could not be read as HTTP/1.1 (${error.code ?? error.message})`);
}

/** A request on a kept-alive connection after the drain began: refused, and the connection closed. */
function refuseWhileDraining(req: IncomingMessage, res: ServerResponse, auditId: string, status: KubeStatus, asText: boolean): void {
  req.resume();
  sendStatus(res, status, { close: true, auditId, asText });
}

function hasValidCertificate(socket: TLSSocket, now: Date): boolean {
  try {
    authenticate(socket, now);
    return true;
  } catch {
    return false;
  }
}

function doorRequest(req: IncomingMessage, upgrade: boolean) {
  return {
    method: req.method ?? '',
    url: req.url ?? '',
    upgrade,
    userAgent: req.headers['user-agent'] ?? '',
    socket: req.socket as TLSSocket,
  };
}
