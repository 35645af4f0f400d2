// A wire-level stand-in for kube-apiserver, good enough for kubectl 1.32 and for tests of a
// proxy in front of one: real authentication (client certificates, bearer tokens from a table or
// a check such as EKS's, test/support/eks-kube-cluster.ts), impersonation by users or groups,
// a tiny RBAC, discovery, Tables and Status errors shaped like the real server's. `npm start --
// --demo` serves it as the demo clusters demo-dev and demo-prod (main.ts, demo-clusters.ts); the
// tests and the bench start it in-process.
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createAdmission } from './admission.js';
import { createAuthorizer, impersonatorCheck } from './authentication.js';
import { createClusterCa } from './cluster-ca.js';
import { legacyCoreDocument } from './discovery.js';
import { createExecUpgrade } from './exec.js';
import { createPortForwardUpgrade } from './port-forward.js';
import { buildFixtures } from './fixtures.js';
import { createWritableStores } from './object-routes.js';
import { createRevision } from './object-store.js';
import { writeKubeconfig } from './kubeconfig.js';
import { createRequestHandler } from './request-handler.js';
import { apiRoutes } from './routes.js';
import type { KubeApiServer, KubeApiServerOptions, RecordedRequest } from './types.js';

export { headerValues } from './request-log.js';
export type { ClusterCa, PemPair } from './cluster-ca.js';
export type { KubeApiServer, KubeApiServerOptions, KubeconfigOptions, PodFixture, RecordedRequest, TokenUser, UserInfo } from './types.js';

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const ca = await createClusterCa('kube-stand-in-ca');
  const serving = await ca.issueServing({ dns: ['localhost', 'kubernetes', 'kubernetes.default.svc'], ips: ['127.0.0.1'] });
  const requests: RecordedRequest[] = [];
  const mayImpersonate = impersonatorCheck(new Set(options.impersonators ?? ['kubeport-agent']), options.impersonatorGroups);
  const admit = createAdmission({
    requests,
    tokens: new Map(Object.entries(options.tokens ?? {})),
    ...(options.authenticateToken ? { authenticateToken: options.authenticateToken } : {}),
    mayImpersonate,
  });
  const allowed = createAuthorizer(options.rbac);
  const fixtures = buildFixtures(options);
  const streams = { intervalMs: options.streams?.intervalMs ?? 200, durationMs: options.streams?.durationMs ?? 1000 };
  let legacyCore: Buffer = Buffer.alloc(0); // names the listening port, so it is built after listen
  // Writes count on from the fixtures' resourceVersions, as etcd's one revision would.
  const revision = createRevision(Number(fixtures.resourceVersion) + 1000);
  const writable = createWritableStores({
    revision,
    namespaces: [...fixtures.namespaces.keys()],
    namespaceExists: (namespace) => fixtures.namespaces.has(namespace),
    configMaps: options.configMaps,
    caPem: ca.certPem,
  });
  const routes = apiRoutes({ fixtures, allowed, mayImpersonate, streams, writable, revision, legacyCore: () => legacyCore });
  const handle = createRequestHandler(admit, routes, allowed);

  const server = https.createServer(
    {
      key: serving.keyPem,
      cert: serving.certPem,
      ca: [ca.certPem],
      requestCert: true,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    },
    (req, res) => void handle(req, res),
  );
  // Upgraded sockets leave the server's connection list, so close() must end them itself.
  const upgraded = new Set<Duplex>();
  // exec and attach (exec.ts) and port-forward (port-forward.ts), each over WebSocket and SPDY.
  const execUpgrade = createExecUpgrade(admit, fixtures, allowed, streams);
  const portForwardUpgrade = createPortForwardUpgrade(admit, fixtures, allowed);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    const path = (req.url ?? '').split('?')[0]!;
    if (path.endsWith('/portforward')) portForwardUpgrade(req, socket, head);
    else execUpgrade(req, socket, head);
  });
  // Go clients keep idle connections for 90 s; closing them sooner only invites reconnect races.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Errors after listening belong to one connection; the server itself keeps serving.
  server.on('error', (error) => process.emitWarning(`kube-apiserver stand-in: ${error.message}`));
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  legacyCore = legacyCoreDocument(port);

  async function close(): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const socket of upgraded) socket.destroy();
    await closed;
  }

  return {
    url,
    port,
    caPem: ca.certPem,
    ca,
    requests,
    issueClientCert: (username, groups = []) => ca.issueClient(username, groups),
    writeKubeconfig: (path, opts) => writeKubeconfig(path, { url, ca }, opts),
    close,
  };
}
