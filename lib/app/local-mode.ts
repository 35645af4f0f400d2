// Everything of Kubeport on one machine: embedded DynamoDB and S3, file-held CA keys, the auth
// and admin handlers behind a local API Gateway adapter, and the agent.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { issueHostCertificate, issueUserCertificate } from '../core/certificate-authority.js';
import { KubeportError } from '../core/errors.js';
import { systemTimers } from '../adapters/system.js';
import type { Clock, ClusterHealthView, Random } from '../core/ports.js';
import type { KubeCluster, User } from '../core/resources.js';
import { createAgent, type Agent } from '../../agent/server.js';
import { ClusterHealthChecks } from '../../agent/cluster-health-checks.js';
import { probeCluster } from '../../agent/cluster-health-probe.js';
import { ADMIN_USER, BUILTIN_CONNECTOR } from '../core/user-standing.js';
import { createAdminHandler } from '../../lambdas/admin/handler.js';
import { createAuthHandler } from '../../lambdas/auth/handler.js';
import type { ServiceDeps } from '../services/deps.js';
import { auditEvent } from '../services/audit-events.js';
import { signInConnector } from '../services/user-records.js';
import { makeDynamoClient, makeS3Client } from '../adapters/aws/clients.js';
import { S3AuditArchive } from '../adapters/aws/s3-audit-archive.js';
import { S3RecordingStore } from '../adapters/aws/s3-recording-store.js';
import { DynamoAuditLog } from '../adapters/aws/dynamo-audit-log.js';
import { DynamoResourceStore } from '../adapters/aws/dynamo-resource-store.js';
import { DynamoStateStore } from '../adapters/aws/dynamo-state-store.js';
import { createTables, tableNamesWithPrefix } from '../adapters/aws/dynamo-tables.js';
import { createApiGatewayServer } from '../adapters/local/api-gateway-adapter.js';
import { upgradeAuditTable } from '../adapters/local/audit-table-upgrade.js';
import { startEmbeddedDynamoDb, type EmbeddedStore } from '../adapters/local/embedded-dynamodb.js';
import { startEmbeddedS3 } from '../adapters/local/embedded-s3.js';
import { FileSecretBox } from '../adapters/local/file-secret-box.js';
import { GitHubHttpApi } from '../adapters/github/github-http-api.js';
import { KubeconfigClusterDirectory } from '../adapters/local/kubeconfig-cluster-directory.js';
import type { KubeconfigCluster } from '../adapters/local/kubeconfig-source.js';
import { FileSigningKeys } from '../adapters/local/file-signing-keys.js';
import { StoredCertAuthorities, ensureCertAuthorities } from '../services/cert-authorities.js';
import { ADMIN_IDENTITY_FILE } from '../client/local-data-dir.js';
import { ensurePrivateDirectory, writeFileAtomic } from '../platform/safe-file.js';
import { agentStoreViews } from './agent-store-views.js';
import { startSpooledAuditWriter } from './spooled-audit-writer.js';

export interface LocalModeConfig {
  dataDir: string;
  apiAddr: { host: string; port: number };
  agentAddr: { host: string; port: number };
  clusterName: string;
  clusters: KubeconfigCluster[];
  /** Labels per cluster name given at start; clusters not named keep the labels they have. */
  clusterLabels: Record<string, Record<string, string>>;
  serverVersion: string;
}

export interface LocalMode {
  apiUrl: string;
  agentAddress: string;
  adminIdentityPath: string;
  registered: { name: string; labels: Record<string, string> }[];
  /** The agent's health checks of the clusters (every 30 s, the first round started at start). */
  clusterHealth: ClusterHealthView & { checkNow(): Promise<void> };
  /** How many local users there are at start (GitHub users sign in with --auth=github, not --user). */
  users: number;
  /** How many GitHub connectors there are at start: any means the banner shows GitHub login. */
  githubConnectors: number;
  /** Drains the agent (see Agent.drain); close() afterwards stops the rest. */
  drain(deadlineMs: number, onProgress: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}

// Renewed every hour, so a copied identity file is useless within two.
const ADMIN_TTL_MS = 2 * 3_600_000;
const HOST_CERT_TTL_MS = 24 * 3_600_000;
const RENEW_EVERY_MS = 3_600_000;
// How soon the agent's certificate follows a host CA rotation's update_servers.
const HOST_CA_CHECK_MS = 3_000;
// After the agent drained: what its audit writer holds goes to the store within this, else to the spool.
const AUDIT_FLUSH_MS = 5_000;

export async function startLocalMode(
  config: LocalModeConfig,
  deps: { clock: Clock; random: Random; log: (message: string) => void; progress: (message: string) => void },
): Promise<LocalMode> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch((e: unknown) => deps.log(`while stopping: ${String(e)}`));
  };
  try {
    // A data directory that holds stores and lets others read them was not left so by Kubeport
    // (a checkout, a copy): its users and invites must not be trusted. An empty one is narrowed.
    const holdsData = existsSync(join(config.dataDir, 'dynamodb'));
    ensurePrivateDirectory(config.dataDir, { narrow: !holdsData });
    // Keys and the admin identity must never be committed, wherever the data directory lives.
    writeFileAtomic(join(config.dataDir, '.gitignore'), '# Kubeport local mode data: keys, users, audit. Never commit.\n*\n', {
      mode: 0o644,
    });
    for (const store of ['dynamodb', 's3']) ensurePrivateDirectory(join(config.dataDir, store), { followSymlink: false, narrow: false });

    deps.progress('starting embedded DynamoDB and S3');
    const dynamo: EmbeddedStore = await startEmbeddedDynamoDb({ dataDir: join(config.dataDir, 'dynamodb') });
    closers.push(() => dynamo.close());
    const s3 = await startEmbeddedS3({ dataDir: join(config.dataDir, 's3'), buckets: ['kubeport-audit', 'kubeport-recordings'] });
    closers.push(() => s3.close());
    const s3Client = makeS3Client({ socketPath: s3.socketPath, region: 'local', forcePathStyle: true });
    closers.push(async () => s3Client.destroy());
    const recordings = new S3RecordingStore(s3Client, 'kubeport-recordings');
    const client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
    closers.push(async () => client.destroy());
    const tables = tableNamesWithPrefix('kubeport-');
    await createTables(client, tables);
    const carried = await upgradeAuditTable(client, tables.audit, deps.clock);
    if (carried !== undefined) deps.progress(`rebuilt the audit table with its search indexes (${carried} events carried over)`);
    const resources = new DynamoResourceStore(client, tables.resources);
    const state = new DynamoStateStore(client, tables.state, deps.clock);
    const audit = new DynamoAuditLog(client, tables.audit, deps.clock);
    // The agent's events go through a writer that batches them and spools them to the data
    // directory while the store does not answer; the services write theirs (logins, certificates,
    // admin changes) before they answer, with audit.emit.
    const spooled = await startSpooledAuditWriter({
      store: audit,
      archive: new S3AuditArchive(s3Client, 'kubeport-audit', deps.clock),
      spoolDir: join(config.dataDir, 'audit-spool'),
      clock: deps.clock,
      random: deps.random,
      log: deps.log,
    });
    const auditWriter = spooled.writer;
    // Runs after the agent has closed (closers run last first), before the stores stop.
    closers.push(() => spooled.close(AUDIT_FLUSH_MS));

    deps.progress('loading certificate authorities');
    const keys = new FileSigningKeys(config.dataDir, deps.random);
    const caDeps = { resources, keys, clock: deps.clock, random: deps.random, audit };
    await ensureCertAuthorities(caDeps, { user: keys.initial('user'), host: keys.initial('host') }, config.clusterName);
    const cas = new StoredCertAuthorities(caDeps, { log: deps.log, retireExpired: true });
    const agentAddress = `${config.agentAddr.host}:${config.agentAddr.port}`;
    const services: ServiceDeps = {
      clusterName: config.clusterName,
      resources,
      state,
      audit,
      secrets: FileSecretBox.loadOrCreate(join(config.dataDir, 'secrets.key')),
      clock: deps.clock,
      random: deps.random,
      cas,
      caKeys: keys,
      agentAddress,
      serverVersion: config.serverVersion,
      github: new GitHubHttpApi(),
      // The same store the agent records to: tsh play reads what the agent wrote.
      recordings,
    };

    const registered = await registerClusters(services, config);

    deps.progress('starting the agent');
    // The host CA that signed the agent's certificate: when another one signs (a rotation's
    // update_servers), the agent gets a certificate from it at once.
    let agentCertIssuer = '';
    const issueHostCert = async () => {
      const hostCa = await cas.signing('host');
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
      const names = hostNames(config.agentAddr.host);
      const certPem = await issueHostCertificate(hostCa, spki, names, HOST_CERT_TTL_MS);
      agentCertIssuer = hostCa.certPem;
      return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    };
    const clusters = new KubeconfigClusterDirectory(resources, config.clusters, deps.clock);
    // The same checks as the agent on AWS runs, against the kubeconfig's clusters: tsh kube ls
    // and tctl get kube_clusters show their health, and the agent answers an unhealthy one at once.
    const agentName = hostname();
    const clusterHealth = new ClusterHealthChecks({
      resources,
      agent: agentName,
      probe: (cluster) => probeCluster({ clusters, clock: deps.clock, agent: agentName }, cluster),
      timers: systemTimers,
      log: deps.log,
    });
    const agent: Agent = createAgent({
      tls: await issueHostCert(),
      trustedUserCas: () => cas.trusted('user'),
      clock: deps.clock,
      log: deps.log,
      clusters,
      clusterHealth,
      // Locks reach the agent only through the store, as they would reach a second agent.
      ...agentStoreViews({ resources, clock: deps.clock, log: deps.log }),
      audit: auditWriter,
      recordings,
    });
    await listening(() => agent.listen(config.agentAddr.port, config.agentAddr.host), config.agentAddr, '--agent-addr');
    closers.push(() => agent.close());
    // Not awaited: a cluster that does not answer must not hold up the start (its probe waits out a timeout).
    void clusterHealth.start();
    closers.push(() => clusterHealth.stop());

    deps.progress('starting the auth and admin API');
    const auth = createAuthHandler(services, deps.log);
    const admin = createAdminHandler(services, deps.log);
    const api: Server = createApiGatewayServer((path) => (path.startsWith('/webapi/admin/') ? admin : auth), deps.log);
    await listening(
      () =>
        new Promise<void>((resolve, reject) => {
          api.once('error', reject);
          api.listen(config.apiAddr.port, config.apiAddr.host, () => resolve());
        }),
      config.apiAddr,
      '--api-addr',
    );
    closers.push(
      () =>
        new Promise((resolve) => {
          api.close(() => resolve());
          api.closeAllConnections();
        }),
    );
    const apiUrl = `http://${config.apiAddr.host}:${config.apiAddr.port}`;

    const adminIdentityPath = join(config.dataDir, ADMIN_IDENTITY_FILE);
    const writeAdminIdentity = async () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
      const identity = {
        username: ADMIN_USER,
        roles: ['editor'],
        traits: {},
        connector: BUILTIN_CONNECTOR,
        accessRequests: [],
        issuedAt: deps.clock.now().toISOString(),
      };
      const userCa = await cas.signing('user');
      const cert = await issueUserCertificate(userCa, spki, identity, ADMIN_TTL_MS);
      writeFileAtomic(
        adminIdentityPath,
        JSON.stringify(
          {
            proxy: `${config.apiAddr.host}:${config.apiAddr.port}`,
            user: ADMIN_USER,
            cert,
            key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
            user_ca: userCa.certPem,
          },
          null,
          2,
        ),
        { mode: 0o600 },
      );
    };
    await writeAdminIdentity();
    const renewAgentCert = () =>
      issueHostCert().then(
        (tls) => agent.renewServerCertificate(tls.certPem, tls.keyPem),
        (e: unknown) => deps.log(`agent certificate renewal failed: ${String(e)}`),
      );
    const renewal = setInterval(() => {
      writeAdminIdentity().catch((e: unknown) => deps.log(`admin identity renewal failed: ${String(e)}`));
      void renewAgentCert();
    }, RENEW_EVERY_MS);
    renewal.unref();
    closers.push(async () => clearInterval(renewal));
    const hostCaWatch = setInterval(() => {
      cas.signing('host').then(
        (hostCa) => (hostCa.certPem === agentCertIssuer ? undefined : renewAgentCert()),
        (e: unknown) => deps.log(`reading the host CA failed: ${String(e)}`),
      );
    }, HOST_CA_CHECK_MS);
    hostCaWatch.unref();
    closers.push(async () => clearInterval(hostCaWatch));

    const users = (await resources.list<User>('user')).filter((user) => signInConnector(user.body) === undefined).length;
    const githubConnectors = (await resources.list('github')).length;
    // The stores stay up while the agent drains: requests in flight still need roles and users.
    const drain = (deadlineMs: number, onProgress: (message: string) => void) => agent.drain(deadlineMs, onProgress);
    return { apiUrl, agentAddress, adminIdentityPath, registered, clusterHealth, users, githubConnectors, drain, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Clusters of the kubeconfig as kube_cluster resources; each change is audited as an admin's would be, by the local admin. */
async function registerClusters(deps: ServiceDeps, config: LocalModeConfig) {
  const { resources } = deps;
  const audited = (event: 'kube.create' | 'kube.update' | 'kube.delete', name: string) =>
    deps.audit.emit(auditEvent(deps, event, { user: ADMIN_USER, kind: 'kube_cluster', name, source: 'kubeconfig' }));
  const registered: { name: string; labels: Record<string, string> }[] = [];
  // Contexts gone from the kubeconfig leave with it; clusters an admin created stay.
  const current = new Set(config.clusters.map((c) => c.name));
  for (const stale of await resources.list<KubeCluster>('kube_cluster')) {
    if (stale.body.spec.source === 'kubeconfig' && !current.has(stale.name) && (await resources.delete('kube_cluster', stale.name)))
      await audited('kube.delete', stale.name);
  }
  for (const cluster of config.clusters) {
    const existing = await resources.get<KubeCluster>('kube_cluster', cluster.name);
    const labels = {
      ...(config.clusterLabels[cluster.name] ?? existing?.body.metadata.labels ?? {}),
      ...(cluster.contextName !== cluster.name ? { 'kubeconfig-context': cluster.contextName } : {}),
    };
    const body: KubeCluster = {
      kind: 'kube_cluster',
      version: 'v3',
      metadata: { name: cluster.name, labels },
      spec: { source: 'kubeconfig' },
    };
    // A start that finds the cluster as it was changes nothing, and says nothing.
    if (JSON.stringify(existing?.body) !== JSON.stringify(body)) {
      await resources.put('kube_cluster', cluster.name, body, { expectRevision: existing?.revision ?? null });
      await audited(existing ? 'kube.update' : 'kube.create', cluster.name);
    }
    registered.push({ name: cluster.name, labels });
  }
  return registered;
}

/** A port another program holds is named with the flag of npm start that moves it. */
async function listening<T>(listen: () => Promise<T>, address: { host: string; port: number }, flag: string): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const at = `${address.host}:${address.port}`;
    if (code === 'EADDRINUSE') {
      throw new KubeportError(
        'conflict',
        `${at} is in use (by another program); choose another with npm start -- ${flag} ${address.host}:PORT`,
        {
          cause: error,
        },
      );
    }
    if (code === 'EACCES') {
      throw new KubeportError(
        'access_denied',
        `may not listen on ${at} (ports below 1024 need privileges); choose another with ${flag} ${address.host}:PORT`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

function hostNames(host: string): { dns: string[]; ips: string[] } {
  const ips = new Set(['127.0.0.1', '::1']);
  const dns = new Set(['localhost']);
  if (/^[\d.]+$/.test(host) || host.includes(':')) ips.add(host);
  else dns.add(host);
  return { dns: [...dns], ips: [...ips] };
}
