import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EKSClient } from '@aws-sdk/client-eks';
import { makeEksClient } from '../../lib/adapters/aws/clients.js';
import { discoverTaggedClusters, EksClusterError, EksClusterLookup } from '../../lib/adapters/aws/eks-clusters.js';
import { discoveryChanges, type RegisteredCluster } from '../../lib/core/cluster-discovery.js';
import { startEksStandIn, type EksStandIn } from '../support/eks-stand-in.js';

const credentials = { accessKeyId: 'AKIDAGENT', secretAccessKey: 'secret' };
const caPem = '-----BEGIN CERTIFICATE-----\nMIIBcluster\n-----END CERTIFICATE-----\n';

let eks: EksStandIn;
let client: EKSClient;

beforeAll(async () => {
  eks = await startEksStandIn({ region: 'eu-west-1' });
  client = makeEksClient({ region: eks.region, endpoint: eks.url, credentials });
});
afterAll(async () => {
  client.destroy();
  await eks.close();
});

const manualClock = () => {
  let now = Date.parse('2026-12-02T12:00:00Z');
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
};

describe('EksClusterLookup', () => {
  beforeEach(() => {
    for (const name of ['prod', 'creating', 'forbidden']) eks.removeCluster(name);
    eks.deniedDescribe.clear();
    eks.failWith = undefined;
    eks.calls.clear();
  });

  it('returns the endpoint and CA of a named cluster from DescribeCluster, through the real EKS client', async () => {
    const cluster = eks.addCluster({ name: 'prod', caData: Buffer.from(caPem).toString('base64') });
    const lookup = new EksClusterLookup({ client, region: eks.region, clock: manualClock() });
    const connection = await lookup.connection('prod');
    expect(connection).toEqual({
      name: 'prod',
      region: 'eu-west-1',
      arn: `arn:aws:eks:eu-west-1:${eks.accountId}:cluster/prod`,
      endpoint: cluster.endpoint,
      caPem,
    });
    expect(eks.lastAccessKeyId).toBe('AKIDAGENT');
  });

  it('answers from its cache until the refresh interval passes, then describes the cluster again and sees a new endpoint', async () => {
    eks.addCluster({ name: 'prod', endpoint: 'https://one.example' });
    const clock = manualClock();
    const lookup = new EksClusterLookup({ client, region: eks.region, clock, refreshMs: 600_000 });
    expect((await lookup.connection('prod')).endpoint).toBe('https://one.example');
    eks.addCluster({ name: 'prod', endpoint: 'https://two.example' });
    clock.advance(599_000);
    expect((await lookup.connection('prod')).endpoint).toBe('https://one.example');
    expect(eks.calls.get('DescribeCluster')).toBe(1);
    clock.advance(1_000);
    expect((await lookup.connection('prod')).endpoint).toBe('https://two.example');
    expect(eks.calls.get('DescribeCluster')).toBe(2);
  });

  it('describes the cluster again at once after invalidate, as after a TLS or connection failure', async () => {
    eks.addCluster({ name: 'prod', endpoint: 'https://one.example' });
    const lookup = new EksClusterLookup({ client, region: eks.region, clock: manualClock() });
    await lookup.connection('prod');
    eks.addCluster({ name: 'prod', endpoint: 'https://two.example' });
    lookup.invalidate('prod');
    expect((await lookup.connection('prod')).endpoint).toBe('https://two.example');
    expect(eks.calls.get('DescribeCluster')).toBe(2);
  });

  it('shares one DescribeCluster among concurrent callers', async () => {
    eks.addCluster({ name: 'prod' });
    const lookup = new EksClusterLookup({ client, region: eks.region, clock: manualClock() });
    const answers = await Promise.all(Array.from({ length: 10 }, () => lookup.connection('prod')));
    expect(new Set(answers.map((a) => a.endpoint)).size).toBe(1);
    expect(eks.calls.get('DescribeCluster')).toBe(1);
  });

  it('says that a missing cluster is not in the region, naming both, and asks EKS again only after the failure interval', async () => {
    const clock = manualClock();
    const lookup = new EksClusterLookup({ client, region: eks.region, clock, failureMs: 30_000 });
    const error = await lookup.connection('prod').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EksClusterError);
    expect(error).toMatchObject({ code: 'not_found', cluster: 'prod', region: 'eu-west-1', awsError: 'ResourceNotFoundException' });
    expect((error as Error).message).toMatch(/no cluster prod in region eu-west-1.*aws eks list-clusters --region eu-west-1/);
    await expect(lookup.connection('prod')).rejects.toThrow(EksClusterError);
    expect(eks.calls.get('DescribeCluster')).toBe(1);
    eks.addCluster({ name: 'prod' });
    clock.advance(30_000);
    await expect(lookup.connection('prod')).resolves.toMatchObject({ name: 'prod' });
  });

  it('says the task role needs eks:DescribeCluster on the cluster when EKS denies it', async () => {
    eks.addCluster({ name: 'forbidden' });
    eks.deniedDescribe.add('forbidden');
    const lookup = new EksClusterLookup({ client, region: eks.region, clock: manualClock() });
    const error = await lookup.connection('forbidden').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_config', cluster: 'forbidden', awsError: 'AccessDeniedException' });
    expect((error as Error).message).toContain('eks:DescribeCluster on arn:aws:eks:eu-west-1:<account>:cluster/forbidden');
  });

  it('refuses a cluster that is not ACTIVE, saying its status', async () => {
    eks.addCluster({ name: 'creating', status: 'CREATING' });
    const lookup = new EksClusterLookup({ client, region: eks.region, clock: manualClock() });
    const error = await lookup.connection('creating').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unavailable', cluster: 'creating', awsError: 'ClusterNotActive' });
    expect((error as Error).message).toContain('is CREATING, not ACTIVE');
  });

  it('keeps serving the last good endpoint while EKS itself fails, and describes again once it recovers', async () => {
    eks.addCluster({ name: 'prod', endpoint: 'https://one.example' });
    const clock = manualClock();
    const lookup = new EksClusterLookup({ client, region: eks.region, clock, refreshMs: 600_000, failureMs: 30_000 });
    await lookup.connection('prod');
    eks.failWith = { type: 'ServiceUnavailableException', status: 503 };
    clock.advance(600_000);
    expect((await lookup.connection('prod')).endpoint).toBe('https://one.example');
    const callsDuringOutage = eks.calls.get('DescribeCluster');
    clock.advance(29_000);
    await lookup.connection('prod');
    expect(eks.calls.get('DescribeCluster')).toBe(callsDuringOutage);
    eks.failWith = undefined;
    eks.addCluster({ name: 'prod', endpoint: 'https://two.example' });
    clock.advance(1_000);
    expect((await lookup.connection('prod')).endpoint).toBe('https://two.example');
  });

  it('stops serving a cluster that EKS says is gone, even one it described before', async () => {
    eks.addCluster({ name: 'prod' });
    const clock = manualClock();
    const lookup = new EksClusterLookup({ client, region: eks.region, clock });
    await lookup.connection('prod');
    eks.removeCluster('prod');
    lookup.invalidate('prod');
    await expect(lookup.connection('prod')).rejects.toMatchObject({ code: 'not_found', cluster: 'prod' });
  });

  it('keeps serving a cluster while it is UPDATING, whose endpoint stays up', async () => {
    eks.addCluster({ name: 'prod', status: 'UPDATING', endpoint: 'https://one.example' });
    const lookup = new EksClusterLookup({ client, region: eks.region, clock: manualClock() });
    await expect(lookup.connection('prod')).resolves.toMatchObject({ endpoint: 'https://one.example' });
  });

  it('finds the stand-in through AWS_ENDPOINT_URL_EKS when no endpoint is given', async () => {
    eks.addCluster({ name: 'prod' });
    const saved = process.env.AWS_ENDPOINT_URL_EKS;
    process.env.AWS_ENDPOINT_URL_EKS = eks.url;
    const fromEnv = makeEksClient({ region: eks.region, credentials });
    try {
      const lookup = new EksClusterLookup({ client: fromEnv, region: eks.region, clock: manualClock() });
      await expect(lookup.connection('prod')).resolves.toMatchObject({ name: 'prod' });
    } finally {
      fromEnv.destroy();
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_EKS;
      else process.env.AWS_ENDPOINT_URL_EKS = saved;
    }
  });
});

describe('discoverTaggedClusters', () => {
  const tagKey = 'kubeport:discover';

  beforeEach(() => {
    for (const name of [
      ...Array.from({ length: 205 }, (_, i) => `c${String(i).padStart(3, '0')}`),
      'prod',
      'staging',
      'creating',
      'forbidden',
    ]) {
      eks.removeCluster(name);
    }
    eks.deniedDescribe.clear();
    eks.failWith = undefined;
    eks.calls.clear();
  });

  it('throws when EKS refuses the listing, so a failed round is never taken for "no clusters" and nothing is unregistered', async () => {
    eks.addCluster({ name: 'prod', tags: { [tagKey]: 'yes' } });
    eks.failWith = { type: 'AccessDeniedException', status: 403 };
    const error = await discoverTaggedClusters(client, { tagKey }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_config' });
    expect((error as Error).message).toContain('eks:ListClusters');
  });

  it('lists every page and keeps the clusters carrying the tag, with all their tags', async () => {
    for (let i = 0; i < 205; i++) {
      const name = `c${String(i).padStart(3, '0')}`;
      eks.addCluster({ name, tags: i % 50 === 7 ? { [tagKey]: 'yes', index: String(i) } : { other: 'x' } });
    }
    const found = await discoverTaggedClusters(client, { tagKey });
    expect(eks.calls.get('ListClusters')).toBe(3);
    expect(found.clusters).toEqual(
      [7, 57, 107, 157].map((i) => ({
        name: `c${String(i).padStart(3, '0')}`,
        region: 'eu-west-1',
        tags: { [tagKey]: 'yes', index: String(i) },
      })),
    );
    expect(found.unreadable).toEqual([]);
  });

  it('keeps only clusters whose tag has the asked value when one is given', async () => {
    eks.addCluster({ name: 'prod', tags: { [tagKey]: 'yes' } });
    eks.addCluster({ name: 'staging', tags: { [tagKey]: 'no' } });
    const found = await discoverTaggedClusters(client, { tagKey, tagValue: 'yes' });
    expect(found.clusters.map((c) => c.name)).toEqual(['prod']);
  });

  it('reports a cluster it may not describe as unreadable instead of dropping it, so discovery keeps it registered', async () => {
    eks.addCluster({ name: 'forbidden', tags: { [tagKey]: 'yes' } });
    eks.deniedDescribe.add('forbidden');
    const found = await discoverTaggedClusters(client, { tagKey });
    expect(found.clusters).toEqual([]);
    expect(found.unreadable).toMatchObject([{ name: 'forbidden', error: { code: 'invalid_config' } }]);
  });

  it('drives the core diff: a newly tagged cluster is added, one whose tag went away removed, an explicit one kept', async () => {
    const registered: RegisteredCluster[] = [{ name: 'prod', labels: { env: 'prod' } }];
    eks.addCluster({ name: 'prod', tags: {} });
    eks.addCluster({ name: 'staging', tags: { [tagKey]: 'yes', env: 'staging' } });

    const first = discoveryChanges(registered, (await discoverTaggedClusters(client, { tagKey })).clusters);
    expect(first.add.map((c) => [c.name, c.labels.env])).toEqual([['staging', 'staging']]);
    expect(first.remove).toEqual([]);
    registered.push(...first.add.map(({ name, labels }) => ({ name, labels })));

    eks.setTags('staging', { env: 'staging' });
    const second = discoveryChanges(registered, (await discoverTaggedClusters(client, { tagKey })).clusters);
    expect(second).toMatchObject({ add: [], update: [], remove: ['staging'] });

    eks.removeCluster('prod');
    const third = discoveryChanges(registered, (await discoverTaggedClusters(client, { tagKey })).clusters);
    expect(third.remove).not.toContain('prod');
  });
});
