// Discovery against EKS stand-ins in two regions (the real EKS client, ListClusters and
// DescribeCluster over REST-JSON) with a real DynamoDB resource store and audit log.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeDynamoClient, makeEksClient } from '../../lib/adapters/aws/clients.js';
import { DynamoAuditLog } from '../../lib/adapters/aws/dynamo-audit-log.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { createTables, tableNamesWithPrefix, type TableNames } from '../../lib/adapters/aws/dynamo-tables.js';
import { TaggedEksClusters, parseDiscoveryTag } from '../../lib/adapters/aws/tagged-eks-clusters.js';
import { type EmbeddedStore, startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';
import { systemRandom } from '../../lib/adapters/system.js';
import { DISCOVERY_ORIGIN_LABEL } from '../../lib/core/cluster-discovery.js';
import { KUBE_CLUSTER_STATUS_KIND } from '../../lib/core/kube-cluster-health.js';
import type { ResourceStore } from '../../lib/core/ports.js';
import type { KubeCluster } from '../../lib/core/resources.js';
import {
  ClusterDiscoveryLoop,
  type ClusterRegistrationDeps,
  ensureConfiguredClusters,
  syncDiscoveredClusters,
} from '../../lib/services/cluster-discovery-sync.js';
import { scanAuditEvents } from '../support/audit-table.js';
import { type EksStandIn, startEksStandIn } from '../support/eks-stand-in.js';

const credentials = { accessKeyId: 'AKIDAGENT', secretAccessKey: 'secret' };
const clock = { now: () => new Date('2026-12-03T03:00:00.000Z') };
const TAG = { key: 'kubeport-discover', value: 'true' };

let dynamo: EmbeddedStore;
let dynamoClient: DynamoDBClient;
let tableNo = 0;
let west: EksStandIn;
let east: EksStandIn;
const eksClients = new Map<string, EKSClient>();

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
  dynamoClient = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
  west = await startEksStandIn({ region: 'eu-west-1' });
  east = await startEksStandIn({ region: 'us-east-1' });
  for (const eks of [west, east]) eksClients.set(eks.region, makeEksClient({ region: eks.region, endpoint: eks.url, credentials }));
});

afterAll(async () => {
  for (const client of eksClients.values()) client.destroy();
  await west?.close();
  await east?.close();
  dynamoClient?.destroy();
  await dynamo?.close();
});

let tables: TableNames;
let deps: ClusterRegistrationDeps;
let resources: ResourceStore;

beforeEach(async () => {
  for (const eks of [west, east]) {
    for (const name of ['web', 'api', 'batch', 'payments', 'plain', 'hidden']) eks.removeCluster(name);
    eks.deniedDescribe.clear();
    eks.failWith = undefined;
  }
  tables = tableNamesWithPrefix(`discovery${tableNo++}-`);
  await createTables(dynamoClient, tables);
  resources = new DynamoResourceStore(dynamoClient, tables.resources);
  deps = { resources, audit: new DynamoAuditLog(dynamoClient, tables.audit, clock), clock, random: systemRandom };
});

const source = (regions = ['eu-west-1', 'us-east-1']) =>
  new TaggedEksClusters({ tag: TAG, regions, clientFor: (region) => eksClients.get(region)! });

const cluster = async (name: string) => (await resources.get<KubeCluster>('kube_cluster', name))?.body;
const names = async () => (await resources.list('kube_cluster')).map((r) => r.name).sort();
const adminCluster = (name: string, labels: Record<string, string> = {}): KubeCluster => ({
  kind: 'kube_cluster',
  version: 'v3',
  metadata: { name, labels },
  spec: { source: 'eks', eks: { name, region: 'eu-west-1' } },
});

/** A discovery loop whose rounds run only when the test says (runNow), and the lines it logs. */
function loggedLoop() {
  const log: string[] = [];
  const loop = new ClusterDiscoveryLoop(deps, source(), {
    intervalMs: 60_000,
    timers: { setTimeout: () => 0, clearTimeout: () => undefined },
    log: (line) => log.push(line),
  });
  return { loop, log };
}

describe('cluster discovery sync', () => {
  it('registers the tagged clusters of every region with an eks source and their tags as labels, audited as the system', async () => {
    west.addCluster({ name: 'web', tags: { [TAG.key]: 'true', team: 'shop', 'cost center': '42' } });
    east.addCluster({ name: 'api', tags: { [TAG.key]: 'true' } });
    west.addCluster({ name: 'plain', tags: { team: 'shop' } });
    west.addCluster({ name: 'hidden', tags: { [TAG.key]: 'false' } });
    const result = await syncDiscoveredClusters(deps, source());
    expect(result.added.sort()).toEqual(['api', 'web']);
    expect(await cluster('web')).toEqual({
      kind: 'kube_cluster',
      version: 'v3',
      metadata: {
        name: 'web',
        labels: { [TAG.key]: 'true', team: 'shop', cost_center: '42', 'kubeport/origin': 'eks-discovery', 'kubeport/region': 'eu-west-1' },
      },
      spec: { source: 'eks', eks: { name: 'web', region: 'eu-west-1' } },
    });
    expect((await cluster('api'))?.spec.eks).toEqual({ name: 'api', region: 'us-east-1' });
    const events = await scanAuditEvents(dynamoClient, tables.audit);
    expect(events.map((e) => [e.event, e.code, e.user, e.name, e.source]).sort()).toEqual([
      ['kube.create', 'T3010I', 'system', 'api', 'eks-discovery'],
      ['kube.create', 'T3010I', 'system', 'web', 'eks-discovery'],
    ]);
    // A second round with nothing changed writes and audits nothing.
    const again = await syncDiscoveredClusters(deps, source());
    expect([again.added, again.updated, again.removed]).toEqual([[], [], []]);
    expect(await scanAuditEvents(dynamoClient, tables.audit)).toHaveLength(2);
  });

  it('follows changed tags and removes clusters whose tag went or that were deleted', async () => {
    west.addCluster({ name: 'web', tags: { [TAG.key]: 'true', team: 'shop' } });
    west.addCluster({ name: 'batch', tags: { [TAG.key]: 'true' } });
    await syncDiscoveredClusters(deps, source());
    west.setTags('web', { [TAG.key]: 'true', team: 'payments' });
    west.removeCluster('batch');
    let result = await syncDiscoveredClusters(deps, source());
    expect(result).toMatchObject({ added: [], updated: ['web'], removed: ['batch'] });
    expect((await cluster('web'))?.metadata.labels?.team).toBe('payments');
    const status = { cluster: 'web', status: 'healthy', checked_at: clock.now().toISOString(), agent: 'task-1' };
    await resources.put(KUBE_CLUSTER_STATUS_KIND, 'web', status);
    west.setTags('web', { team: 'payments' });
    result = await syncDiscoveredClusters(deps, source());
    expect(result.removed).toEqual(['web']);
    expect(await names()).toEqual([]);
    expect(await resources.get(KUBE_CLUSTER_STATUS_KIND, 'web')).toBeUndefined();
    const events = await scanAuditEvents(dynamoClient, tables.audit);
    expect(events.filter((e) => e.event === 'kube.delete').map((e) => [e.name, e.user, e.region])).toEqual(
      expect.arrayContaining([
        ['batch', 'system', 'eu-west-1'],
        ['web', 'system', 'eu-west-1'],
      ]),
    );
  });

  it('never changes or removes a cluster an admin created, even when a tagged cluster of its name comes and goes', async () => {
    const admin = await resources.put('kube_cluster', 'web', adminCluster('web', { env: 'prod' }), { expectRevision: null });
    west.addCluster({ name: 'web', tags: { [TAG.key]: 'true', env: 'staging' } });
    const result = await syncDiscoveredClusters(deps, source());
    expect(result.skipped).toEqual([{ name: 'web', reason: 'it is configured explicitly, which takes precedence' }]);
    west.removeCluster('web');
    await syncDiscoveredClusters(deps, source());
    expect((await resources.get('kube_cluster', 'web'))?.revision).toBe(admin.revision);
  });

  it('security: a cloud tag cannot forge the origin label to make an admin cluster removable, nor keep a discovered one', async () => {
    const admin = await resources.put('kube_cluster', 'payments', adminCluster('payments'), { expectRevision: null });
    // Tags that spell discovery's own labels: dropped before they become labels.
    const forged = { [TAG.key]: 'true', 'kubeport/origin': 'eks-discovery', 'kubeport/region': 'us-east-1' };
    west.addCluster({ name: 'payments', tags: forged });
    // A value cannot smuggle a label in either: values stay values, their line breaks spaces.
    const smuggled = { team: 'shop\nkubeport/origin: admin' };
    west.addCluster({ name: 'web', tags: { [TAG.key]: 'true', 'kubeport/origin': 'admin', 'kubeport/origin\u0000': 'x', ...smuggled } });
    await syncDiscoveredClusters(deps, source());
    expect((await resources.get('kube_cluster', 'payments'))?.revision).toBe(admin.revision);
    expect((await cluster('web'))?.metadata.labels).toEqual({
      [TAG.key]: 'true',
      team: 'shop kubeport/origin: admin',
      [DISCOVERY_ORIGIN_LABEL]: 'eks-discovery',
      'kubeport/region': 'eu-west-1',
    });
    // The tag goes from both: the discovered one leaves, the admin's stays as it was.
    west.setTags('payments', { 'kubeport/origin': 'eks-discovery' });
    west.setTags('web', { 'kubeport/origin': 'admin' });
    const result = await syncDiscoveredClusters(deps, source());
    expect(result.removed).toEqual(['web']);
    expect((await resources.get('kube_cluster', 'payments'))?.revision).toBe(admin.revision);
  });

  it('security: does not give an admin-configured EKS cluster a second name whose tag-made labels reach other roles', async () => {
    // The admin's `payments` reaches EKS cluster web, for production roles; someone tags web for dev.
    const adminBody: KubeCluster = {
      ...adminCluster('payments', { env: 'prod' }),
      spec: { source: 'eks', eks: { name: 'web', region: 'eu-west-1' } },
    };
    const admin = await resources.put('kube_cluster', 'payments', adminBody, { expectRevision: null });
    west.addCluster({ name: 'web', tags: { [TAG.key]: 'true', env: 'dev' } });
    const { loop, log } = loggedLoop();
    await loop.start();
    await loop.runNow();
    expect(await names()).toEqual(['payments']);
    expect((await resources.get('kube_cluster', 'payments'))?.revision).toBe(admin.revision);
    expect(log).toEqual([
      'cluster discovery skips web: the kube_cluster payments is configured to reach this EKS cluster (eu-west-1), which takes precedence',
    ]);
    await loop.stop();
    // The same name in another region is another EKS cluster: discovered as usual.
    east.addCluster({ name: 'web', tags: { [TAG.key]: 'true' } });
    expect((await syncDiscoveredClusters(deps, source(['us-east-1']))).added).toEqual(['web']);
  });

  it('security: removes a second name discovery gave an EKS cluster before an admin configured it, audited', async () => {
    west.addCluster({ name: 'web', tags: { [TAG.key]: 'true', env: 'dev' } });
    await syncDiscoveredClusters(deps, source());
    expect(await names()).toEqual(['web']);
    const adminBody: KubeCluster = {
      ...adminCluster('payments', { env: 'prod' }),
      spec: { source: 'eks', eks: { name: 'web', region: 'eu-west-1' } },
    };
    await resources.put('kube_cluster', 'payments', adminBody, { expectRevision: null });
    // Even while web cannot be described (whether it still carries the tag is unknown), the second name goes.
    west.deniedDescribe.add('web');
    const result = await syncDiscoveredClusters(deps, source());
    expect(result.removed).toEqual(['web']);
    expect(await names()).toEqual(['payments']);
    const events = await scanAuditEvents(dynamoClient, tables.audit);
    expect(events.filter((e) => e.event === 'kube.delete').map((e) => [e.name, e.user, e.source])).toEqual([
      ['web', 'system', 'eks-discovery'],
    ]);
    west.deniedDescribe.clear();
    const next = await syncDiscoveredClusters(deps, source());
    expect([next.added, next.removed, next.skipped.map((s) => s.name)]).toEqual([[], [], ['web']]);
  });

  it('keeps the clusters of a region that could not be listed, and those it could not describe', async () => {
    west.addCluster({ name: 'web', tags: { [TAG.key]: 'true' } });
    east.addCluster({ name: 'api', tags: { [TAG.key]: 'true' } });
    west.addCluster({ name: 'batch', tags: { [TAG.key]: 'true' } });
    await syncDiscoveredClusters(deps, source());
    expect(await names()).toEqual(['api', 'batch', 'web']);
    east.failWith = { type: 'AccessDeniedException', status: 403 };
    west.deniedDescribe.add('batch');
    const result = await syncDiscoveredClusters(deps, source());
    expect(result.removed).toEqual([]);
    expect(result.failedRegions).toEqual([
      { region: 'us-east-1', message: expect.stringContaining('may not list EKS clusters in region us-east-1') },
    ]);
    expect(await names()).toEqual(['api', 'batch', 'web']);
    // Once the region answers again without it, it goes.
    east.failWith = undefined;
    east.removeCluster('api');
    expect((await syncDiscoveredClusters(deps, source())).removed).toEqual(['api']);
  });

  it('writes conditionally: an admin who takes a discovered cluster over meanwhile wins', async () => {
    west.addCluster({ name: 'web', tags: { [TAG.key]: 'true', team: 'a' } });
    await syncDiscoveredClusters(deps, source());
    west.setTags('web', { [TAG.key]: 'true', team: 'b' });
    // Between discovery's read and its write, an admin makes the cluster their own.
    const racing: ResourceStore = {
      ...resources,
      get: (kind, name) => resources.get(kind, name),
      delete: (kind, name, options) => resources.delete(kind, name, options),
      put: (kind, name, body, options) => resources.put(kind, name, body, options),
      list: async <T>(kind: string) => {
        const listed = await resources.list<T>(kind);
        if (kind === 'kube_cluster') await resources.put('kube_cluster', 'web', adminCluster('web', { team: 'mine' }));
        return listed;
      },
    };
    const result = await syncDiscoveredClusters({ ...deps, resources: racing }, source());
    expect(result.conflicts).toEqual(['web']);
    expect(await cluster('web')).toEqual(adminCluster('web', { team: 'mine' }));
    // Next round, the cluster is the admin's: left alone.
    const next = await syncDiscoveredClusters(deps, source());
    expect(next.skipped.map((s) => s.name)).toEqual(['web']);
  });

  it('logs each change as it happens and a skip or failed region only when it first appears', async () => {
    await resources.put('kube_cluster', 'payments', adminCluster('payments'), { expectRevision: null });
    west.addCluster({ name: 'payments', tags: { [TAG.key]: 'true' } });
    west.addCluster({ name: 'web', tags: { [TAG.key]: 'true' } });
    const { loop, log } = loggedLoop();
    await loop.start();
    await loop.runNow();
    await loop.runNow();
    expect(log).toEqual([
      'cluster discovery registered web',
      'cluster discovery skips payments: it is configured explicitly, which takes precedence',
    ]);
    await loop.stop();
  });
});

describe('ensureConfiguredClusters', () => {
  it("registers the named EKS clusters with an eks source and no origin label, keeping admins' resources as they are", async () => {
    const admin = await resources.put('kube_cluster', 'payments', adminCluster('payments', { env: 'prod' }), { expectRevision: null });
    const result = await ensureConfiguredClusters(deps, ['web', 'payments', 'web', 'Bad_Name'], 'eu-west-1');
    expect(result.registered).toEqual(['web']);
    expect(result.kept).toEqual(['payments']);
    expect(result.skipped.map((s) => s.name)).toEqual(['Bad_Name']);
    expect(await cluster('web')).toEqual({
      kind: 'kube_cluster',
      version: 'v3',
      metadata: { name: 'web', labels: {} },
      spec: { source: 'eks', eks: { name: 'web', region: 'eu-west-1' } },
    });
    expect((await resources.get('kube_cluster', 'payments'))?.revision).toBe(admin.revision);
    const events = await scanAuditEvents(dynamoClient, tables.audit);
    expect(events.map((e) => [e.event, e.user, e.name, e.source])).toEqual([['kube.create', 'system', 'web', 'KUBEPORT_EKS_CLUSTERS']]);
    // A second start changes nothing.
    expect((await ensureConfiguredClusters(deps, ['web'], 'eu-west-1')).kept).toEqual(['web']);
  });

  it('makes a discovered cluster configured, so discovery never removes it', async () => {
    west.addCluster({ name: 'web', tags: { [TAG.key]: 'true', team: 'shop' } });
    await syncDiscoveredClusters(deps, source());
    expect((await ensureConfiguredClusters(deps, ['web'], 'eu-west-1')).registered).toEqual(['web']);
    expect((await cluster('web'))?.metadata.labels).toEqual({ [TAG.key]: 'true', team: 'shop' });
    west.removeCluster('web');
    expect((await syncDiscoveredClusters(deps, source())).removed).toEqual([]);
    expect(await names()).toEqual(['web']);
  });
});

describe('parseDiscoveryTag', () => {
  it('reads key or key=value, the first = splitting', () => {
    expect(parseDiscoveryTag('kubeport-discover')).toEqual({ key: 'kubeport-discover' });
    expect(parseDiscoveryTag('team=a=b')).toEqual({ key: 'team', value: 'a=b' });
    expect(parseDiscoveryTag('env=')).toEqual({ key: 'env', value: '' });
  });

  it('refuses a tag without a key, too long, or with control characters, naming the variable and the form', () => {
    expect(() => parseDiscoveryTag('=true')).toThrow('KUBEPORT_DISCOVERY_TAG "=true" names no tag key; write KEY or KEY=VALUE');
    expect(() => parseDiscoveryTag('')).toThrow(/names no tag key/);
    expect(() => parseDiscoveryTag('k'.repeat(129))).toThrow(/longer than 128/);
    expect(() => parseDiscoveryTag(`k=${'v'.repeat(257)}`)).toThrow(/longer than 256/);
    expect(() => parseDiscoveryTag('k=\n')).toThrow(/control characters/);
  });
});
