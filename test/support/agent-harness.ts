// An agent in this process between a test client and the Kubernetes API stand-in, with its own
// user and host CAs, so tests can mint any certificate they need to try against it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { RequestScope } from '../../agent/request-scope.js';
import { type Agent, type AgentLimits, createAgent } from '../../agent/server.js';
import type {
  AuditSink,
  ClusterDirectory,
  ClusterHealthView,
  RecordingStore,
  ResourceStore,
  UpstreamCluster,
} from '../../lib/core/ports.js';
import { LockWatcher } from '../../agent/locks.js';
import { createEphemeralCa, newLeafKey } from '../../lib/adapters/local/ephemeral-ca.js';
import { type IssuingCa, issueHostCertificate, issueUserCertificate } from '../../lib/core/certificate-authority.js';
import type { Identity } from '../../lib/core/identity.js';
import type { Role, User } from '../../lib/core/resources.js';
import { accessRole } from '../../lib/core/builtin-roles.js';
import { type KubeApiServer, startKubeApiServer, type KubeApiServerOptions } from '../../lib/demo/kube-apiserver.js';

export interface ClientCredentials {
  certPem: string;
  keyPem: string;
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface OpenConnection {
  socket: tls.TLSSocket;
  /** Resolves once the bytes are written. */
  written: Promise<void>;
  closed: Promise<void>;
  /** Everything received so far, as latin1 text. */
  received(): string;
}

export interface AgentHarness {
  kube: KubeApiServer;
  agent: Agent;
  port: number;
  userCa: IssuingCa;
  hostCa: IssuingCa;
  roles: Map<string, Role>;
  /** Users the agent looks up; a name not here exists with no revocation, null means removed. */
  users: Map<string, User | null>;
  clock: { now: () => Date; advance(ms: number): void };
  /** Every request's scope, as the agent's onFinish hook got it, in the order they finished. */
  finished: RequestScope[];
  /** Names the harness's own directory was asked to resolve (reach), in order: never a cluster the user may not see. */
  resolvedClusters: string[];
  /** A certificate for `identity` from the user CA (or `ca`), valid from `at` for `ttlMs`. */
  issue(
    identity: Partial<Identity> & { username: string },
    options?: { ca?: IssuingCa; at?: Date; ttlMs?: number },
  ): Promise<ClientCredentials>;
  request(
    path: string,
    options?: { credentials?: ClientCredentials; method?: string; headers?: [string, string][]; body?: string },
  ): Promise<Response>;
  /** Writes raw bytes on a fresh TLS connection and returns whatever comes back until close. */
  raw(bytes: string, credentials?: ClientCredentials): Promise<string>;
  /** Writes raw bytes on a fresh TLS connection that stays open: for streams and for many connections at once. */
  open(bytes: string, credentials: ClientCredentials): OpenConnection;
  /** The API server of cluster "custom", when options.customUpstream gave one: its open connections. */
  customConnections: Set<Socket>;
  close(): Promise<void>;
}

const delay = (ms: number | undefined) => (ms ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined);

/** A CA of this test's own, on the test's clock. */
export const newCa = (name: string, clock: { now: () => Date }): Promise<IssuingCa> => createEphemeralCa(name, { clock });

/** A raw WebSocket upgrade request (kubectl exec's v5 channel protocol), with `extra` header lines. */
export const rawUpgrade = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n${extra}\r\n`;

/**
 * Resolves once a stream is over for its client: the connection closed (an upgrade), or the
 * response's last chunk arrived (a watch or followed log the agent ends cleanly, on a connection
 * kept alive).
 */
export function streamEnded(connection: OpenConnection, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stream did not end within ${timeoutMs} ms`)), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve();
    };
    const poll = setInterval(() => connection.received().endsWith('\r\n0\r\n\r\n') && done(), 20);
    void connection.closed.then(done);
  });
}

export interface AgentHarnessOptions {
  kube?: KubeApiServerOptions;
  clusters?: Record<string, Record<string, string>>;
  /** Over the harness's own short limits. */
  limits?: Partial<AgentLimits>;
  newRequestId?: () => string;
  /**
   * Serves cluster "custom" with this handler instead of the stand-in: for API servers (or what
   * they proxy) that answer in ways the stand-in never does.
   */
  customUpstream?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Upgrades to cluster "custom" (with customUpstream): the raw socket, for servers that misbehave after a 101. */
  customUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** A slow store: loadUser, and the cluster lookup (which comes after the lock check), take this long. */
  delays?: { loadUserMs?: number; resolveClusterMs?: number };
  /** Locks read from this store (several harnesses may share one), on the harness's clock. */
  locks?: { store: ResourceStore; pollMs?: number; maxStalenessMs?: number };
  /** Where the agent's audit events go; none: not audited. */
  audit?: AuditSink;
  /** Where interactive sessions are recorded; none: not recorded. */
  recordings?: RecordingStore;
  /** Where the agent's log lines go; none: nowhere. */
  log?: (message: string) => void;
  /** The user CAs the agent trusts, asked at listen and at each refresh (a CA rotation); default: the harness's user CA. */
  trustedUserCas?: (userCa: IssuingCa) => Promise<string[]>;
  /** The clock of the agent and its CAs; default real time plus what the test advances. */
  clock?: { now: () => Date; advance(ms: number): void };
  /** Clusters resolved here instead of the harness's own (an EksClusterDirectory); the harness's serve as its kubeconfig directory. */
  clusterDirectory?: (harnessClusters: ClusterDirectory) => ClusterDirectory;
  /** The agent's view of cluster health (fail-fast refusals). */
  clusterHealth?: ClusterHealthView;
}

export async function startAgentHarness(options: AgentHarnessOptions = {}): Promise<AgentHarness> {
  let offset = 0;
  const clock = options.clock ?? { now: () => new Date(Date.now() + offset), advance: (ms: number) => (offset += ms) };
  const kube = await startKubeApiServer(options.kube);
  const agentIdentity = await kube.issueClientCert('kubeport-agent');
  const userCa = await newCa('Kubeport user CA', clock);
  const hostCa = await newCa('Kubeport host CA', clock);
  const roles = new Map<string, Role>([['access', accessRole]]);
  const users = new Map<string, User | null>();
  const labels = options.clusters ?? { dev: { env: 'dev' }, prod: { env: 'prod' } };
  const clusters = new Map<string, UpstreamCluster>(
    Object.entries(labels).map(([name, l]) => [
      name,
      { name, labels: l, server: new URL(kube.url), tls: { ca: kube.caPem, cert: agentIdentity.certPem, key: agentIdentity.keyPem } },
    ]),
  );
  const finished: RequestScope[] = [];
  const resolvedClusters: string[] = [];
  const hostKey = newLeafKey();
  const hostCert = await issueHostCertificate(hostCa, hostKey.spki, { dns: ['localhost'], ips: ['127.0.0.1'] }, 3_600_000);
  const customConnections = new Set<Socket>();
  let custom: https.Server | undefined;
  if (options.customUpstream) {
    custom = https.createServer({ cert: hostCert, key: hostKey.keyPem }, options.customUpstream);
    if (options.customUpgrade) custom.on('upgrade', options.customUpgrade);
    custom.on('connection', (socket: Socket) => {
      customConnections.add(socket);
      socket.once('close', () => customConnections.delete(socket));
    });
    await new Promise<void>((resolve) => custom!.listen(0, '127.0.0.1', () => resolve()));
    const { port: customPort } = custom.address() as { port: number };
    clusters.set('custom', {
      name: 'custom',
      labels: { env: 'dev' },
      server: new URL(`https://127.0.0.1:${customPort}`),
      tls: { ca: hostCa.certPem },
    });
  }
  const agent = createAgent({
    tls: { certPem: hostCert, keyPem: hostKey.keyPem },
    trustedUserCas: options.trustedUserCas ? () => options.trustedUserCas!(userCa) : async () => [userCa.certPem],
    clock,
    log: options.log ?? (() => undefined),
    clusters: (options.clusterDirectory ?? ((own: ClusterDirectory) => own))({
      registered: async (name) => {
        const cluster = clusters.get(name);
        return cluster && { name: cluster.name, labels: cluster.labels };
      },
      resolve: async (name) => {
        resolvedClusters.push(name);
        await delay(options.delays?.resolveClusterMs);
        return clusters.get(name);
      },
    }),
    ...(options.clusterHealth ? { clusterHealth: options.clusterHealth } : {}),
    limits: { unauthenticatedIdleMs: 300, maxConnectionsPerSource: 8, streamRecheckMs: 100, ...options.limits },
    ...(options.newRequestId ? { newRequestId: options.newRequestId } : {}),
    onFinish: (scope) => finished.push(scope),
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.recordings ? { recordings: options.recordings } : {}),
    ...(options.locks
      ? {
          locks: new LockWatcher({
            store: options.locks.store,
            clock,
            log: () => undefined,
            ...(options.locks.pollMs !== undefined ? { pollMs: options.locks.pollMs } : {}),
            ...(options.locks.maxStalenessMs !== undefined ? { maxStalenessMs: options.locks.maxStalenessMs } : {}),
          }),
        }
      : {}),
    loadRoles: async (names) => names.flatMap((n) => (roles.has(n) ? [roles.get(n)!] : [])),
    loadUser: async (name) => {
      await delay(options.delays?.loadUserMs);
      const user = users.get(name);
      if (user === null) return undefined;
      return user ?? { kind: 'user', version: 'v2', metadata: { name }, spec: { roles: ['access'], traits: {} } };
    },
  });
  const { port } = await agent.listen(0, '127.0.0.1');

  const issue: AgentHarness['issue'] = async (identity, issueOptions = {}) => {
    const pair = newLeafKey();
    const at = issueOptions.at ?? clock.now();
    const ca = issueOptions.ca ?? userCa;
    const full: Identity = {
      roles: ['access'],
      traits: { kubernetes_groups: ['devs'] },
      connector: 'local',
      accessRequests: [],
      issuedAt: at.toISOString(),
      ...identity,
    };
    const certPem = await issueUserCertificate({ ...ca, clock: { now: () => at } }, pair.spki, full, issueOptions.ttlMs ?? 3_600_000);
    return { certPem, keyPem: pair.keyPem };
  };

  const request: AgentHarness['request'] = (path, requestOptions = {}) =>
    new Promise((resolve, reject) => {
      // Raw header pairs keep repeated and oddly cased names exactly as a test wrote them.
      const headers: string[] = ['Host', `localhost:${port}`];
      for (const [k, v] of requestOptions.headers ?? []) headers.push(k, v);
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: requestOptions.method ?? 'GET',
          headers: headers as unknown as Record<string, string>,
          ca: hostCa.certPem,
          servername: 'localhost',
          agent: false,
          ...(requestOptions.credentials ? { cert: requestOptions.credentials.certPem, key: requestOptions.credentials.keyPem } : {}),
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end(requestOptions.body);
    });

  const raw: AgentHarness['raw'] = (bytes, credentials) =>
    new Promise((resolve, reject) => {
      const socket = tls.connect(
        {
          host: '127.0.0.1',
          port,
          ca: hostCa.certPem,
          servername: 'localhost',
          ...(credentials ? { cert: credentials.certPem, key: credentials.keyPem } : {}),
        },
        () => socket.write(bytes),
      );
      let received = '';
      socket.on('data', (c: Buffer) => (received += c.toString()));
      socket.on('close', () => resolve(received));
      socket.on('error', (error) => (received ? resolve(received) : reject(error)));
      socket.setTimeout(5_000, () => socket.destroy());
    });

  // One TLS context per client: hundreds of connections need not parse the same keys again.
  const contexts = new WeakMap<ClientCredentials, tls.SecureContext>();
  const open: AgentHarness['open'] = (bytes, credentials) => {
    let secureContext = contexts.get(credentials);
    if (!secureContext)
      contexts.set(
        credentials,
        (secureContext = tls.createSecureContext({ ca: hostCa.certPem, cert: credentials.certPem, key: credentials.keyPem })),
      );
    let received = '';
    const socket = tls.connect({ host: '127.0.0.1', port, secureContext, servername: 'localhost' });
    const written = new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => socket.write(bytes, () => resolve()));
      socket.once('error', reject);
    });
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    return { socket, written, closed, received: () => received };
  };

  return {
    kube,
    agent,
    port,
    userCa,
    hostCa,
    roles,
    users,
    clock,
    finished,
    resolvedClusters,
    issue,
    request,
    raw,
    open,
    customConnections,
    close: async () => {
      await agent.close();
      await kube.close();
      custom?.closeAllConnections();
      custom?.close();
    },
  };
}
