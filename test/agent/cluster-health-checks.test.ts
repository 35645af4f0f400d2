// The agent's health checks against the kube-apiserver stand-in (real TLS, client certificates,
// bearer tokens, SelfSubjectAccessReview) with statuses written to a real DynamoDB store.
import https from 'node:https';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClusterHealthChecks } from '../../agent/cluster-health-checks.js';
import { probeCluster } from '../../agent/cluster-health-probe.js';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { type EmbeddedStore, startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';
import { type ClusterHealth, KUBE_CLUSTER_STATUS_KIND } from '../../lib/core/kube-cluster-health.js';
import type { ClusterDirectory, UpstreamCluster } from '../../lib/core/ports.js';
import type { KubeCluster } from '../../lib/core/resources.js';
import { type KubeApiServer, startKubeApiServer } from '../../lib/demo/kube-apiserver.js';

const ROLE = 'arn:aws:iam::123456789012:role/kubeport-agent';
const now = new Date('2026-12-03T03:00:00.000Z');
const clock = { now: () => now };
// Rounds run when the test asks (checkNow), never on a timer.
const noTimers = { setTimeout: () => 0, clearTimeout: () => undefined };

let dynamo: EmbeddedStore;
let client: DynamoDBClient;
let tableNo = 0;
let open: KubeApiServer;
let restricted: KubeApiServer;
let agentTls: UpstreamCluster['tls'];
let restrictedTls: UpstreamCluster['tls'];
let closedPort: number;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
  client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
  open = await startKubeApiServer();
  // The agent is known, but may not impersonate (and RBAC lets it act only inside `default`).
  restricted = await startKubeApiServer({ impersonators: [], rbac: { 'kubeport-agent': ['default'] } });
  const cert = await open.issueClientCert('kubeport-agent');
  agentTls = { ca: open.caPem, cert: cert.certPem, key: cert.keyPem };
  const restrictedCert = await restricted.issueClientCert('kubeport-agent');
  restrictedTls = { ca: restricted.caPem, cert: restrictedCert.certPem, key: restrictedCert.keyPem };
  // A port nothing listens on: connections are refused.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
}, 60_000);

afterAll(async () => {
  await open?.close();
  await restricted?.close();
  client?.destroy();
  await dynamo?.close();
});

let resources: DynamoResourceStore;
let upstreams: Map<string, UpstreamCluster>;
const directory: ClusterDirectory = {
  registered: async (name) => upstreams.get(name),
  resolve: async (name) => upstreams.get(name),
};

beforeEach(async () => {
  const tables = tableNamesWithPrefix(`health${tableNo++}-`);
  await createTables(client, tables);
  resources = new DynamoResourceStore(client, tables.resources);
  upstreams = new Map();
});

async function register(name: string, upstream: Omit<UpstreamCluster, 'name' | 'labels'> | undefined) {
  const body: KubeCluster = { kind: 'kube_cluster', version: 'v3', metadata: { name, labels: {} }, spec: { source: 'kubeconfig' } };
  await resources.put('kube_cluster', name, body);
  if (upstream) upstreams.set(name, { name, labels: {}, ...upstream });
}

function checks(log: string[] = []) {
  return new ClusterHealthChecks({
    resources,
    agent: 'agent-1',
    probe: (cluster) => probeCluster({ clusters: directory, clock, agent: 'agent-1', agentRoleArn: ROLE, timeoutMs: 5_000 }, cluster),
    timers: noTimers,
    log: (line) => log.push(line),
  });
}

describe('cluster health checks', () => {
  it('reports a cluster that accepts the agent and lets it impersonate as healthy, in memory and in the store', async () => {
    await register('dev', { server: new URL(open.url), tls: agentTls });
    const health = checks();
    await health.start();
    const expected: ClusterHealth = { cluster: 'dev', status: 'healthy', checked_at: now.toISOString(), agent: 'agent-1' };
    expect(health.current('dev')).toEqual(expected);
    expect((await resources.get(KUBE_CLUSTER_STATUS_KIND, 'dev'))?.body).toEqual(expected);
    // The three reviews reached the API server as the agent's own identity, one per impersonated resource.
    const reviews = open.requests.filter((r) => r.path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    expect(reviews.length).toBeGreaterThanOrEqual(3);
    expect(reviews.at(-1)?.authenticated?.username).toBe('kubeport-agent');
    await health.stop();
  });

  it('reports a refused credential (401) as token_refused', async () => {
    await register('dev', { server: new URL(open.url), tls: { ca: open.caPem }, bearerToken: async () => 'not-a-known-token' });
    const health = checks();
    await health.start();
    expect(health.current('dev')).toMatchObject({ status: 'unhealthy', problem: 'token_refused' });
    expect(health.current('dev')?.reason).toContain('401');
    await health.stop();
  });

  it('reports a denied SelfSubjectAccessReview as cannot_impersonate, naming tctl kube bootstrap', async () => {
    await register('restricted', { server: new URL(restricted.url), tls: restrictedTls });
    const health = checks();
    await health.start();
    const status = health.current('restricted');
    expect(status).toMatchObject({ status: 'unhealthy', problem: 'cannot_impersonate' });
    expect(status?.reason).toContain('users, groups, serviceaccounts');
    expect(status?.fix).toContain('tctl kube bootstrap restricted | kubectl apply -f -');
    await health.stop();
  });

  it('reports a refused connection as unreachable', async () => {
    await register('gone', { server: new URL(`https://127.0.0.1:${closedPort}`), tls: agentTls });
    const health = checks();
    await health.start();
    expect(health.current('gone')).toMatchObject({ status: 'unhealthy', problem: 'unreachable' });
    expect(health.current('gone')?.reason).toContain('ECONNREFUSED');
    await health.stop();
  });

  it('reports a server whose certificate the CA does not sign as unreachable, with the CA fix', async () => {
    await register('wrong-ca', { server: new URL(open.url), tls: { ...agentTls, ca: restricted.caPem } });
    const health = checks();
    await health.start();
    expect(health.current('wrong-ca')).toMatchObject({ status: 'unhealthy', problem: 'unreachable' });
    expect(health.current('wrong-ca')?.fix).toContain('certificate-authority-data');
    await health.stop();
  });

  it('reports a registered cluster the agent has no address for as describe_failed', async () => {
    await register('elsewhere', undefined);
    const health = checks();
    await health.start();
    expect(health.current('elsewhere')).toMatchObject({ status: 'unhealthy', problem: 'describe_failed' });
    await health.stop();
  });

  it('reports an answer other than a review (a 503, an unreadable body) as check_failed, with what the server said', async () => {
    const serving = await open.ca.issueServing({ dns: [], ips: ['127.0.0.1'] });
    let answer = { status: 503, body: JSON.stringify({ kind: 'Status', status: 'Failure', message: 'etcd is unavailable' }) };
    const server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      req.resume();
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await register('odd', { server: new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`), tls: { ca: open.caPem } });
      const health = checks();
      await health.start();
      expect(health.current('odd')).toMatchObject({ status: 'unhealthy', problem: 'check_failed' });
      expect(health.current('odd')?.reason).toBe('the API server answered a SelfSubjectAccessReview with HTTP 503: etcd is unavailable');
      answer = { status: 201, body: '<html>a login page</html>' };
      await health.checkNow();
      expect(health.current('odd')).toMatchObject({ status: 'unhealthy', problem: 'check_failed' });
      expect(health.current('odd')?.reason).toContain('could not be read');
      await health.stop();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('logs a change of state once, not every round, and the return to healthy once', async () => {
    await register('dev', { server: new URL(open.url), tls: agentTls });
    const log: string[] = [];
    const health = checks(log);
    await health.start();
    expect(log).toEqual([]);
    upstreams.set('dev', { name: 'dev', labels: {}, server: new URL(open.url), tls: { ca: open.caPem }, bearerToken: async () => 'bad' });
    await health.checkNow();
    await health.checkNow();
    await health.checkNow();
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/^cluster dev is unhealthy \(token_refused\): .* — fix: /);
    upstreams.set('dev', { name: 'dev', labels: {}, server: new URL(open.url), tls: agentTls });
    await health.checkNow();
    await health.checkNow();
    expect(log).toEqual([log[0], 'cluster dev is healthy again']);
    await health.stop();
  });

  it("writes every cluster's status each round and removes its own status of a cluster no longer registered", async () => {
    await register('dev', { server: new URL(open.url), tls: agentTls });
    await register('gone', { server: new URL(`https://127.0.0.1:${closedPort}`), tls: agentTls });
    // Another agent's status of a cluster this one does not know stays for that agent to manage.
    await resources.put(KUBE_CLUSTER_STATUS_KIND, 'theirs', {
      cluster: 'theirs',
      status: 'healthy',
      checked_at: now.toISOString(),
      agent: 'agent-2',
    });
    const health = checks();
    await health.start();
    const statuses = await resources.list<ClusterHealth>(KUBE_CLUSTER_STATUS_KIND);
    expect(statuses.map((s) => [s.name, s.body.status]).sort()).toEqual([
      ['dev', 'healthy'],
      ['gone', 'unhealthy'],
      ['theirs', 'healthy'],
    ]);
    await resources.delete('kube_cluster', 'gone');
    await health.checkNow();
    expect(health.current('gone')).toBeUndefined();
    expect((await resources.list(KUBE_CLUSTER_STATUS_KIND)).map((s) => s.name).sort()).toEqual(['dev', 'theirs']);
    await health.stop();
  });
});
