// The agent's health checks of EKS clusters, end to end through the real parts: DescribeCluster
// (the EKS stand-in, real SDK client), the presigned STS token (checked by the STS stand-in as
// EKS's authenticator does), access entries and the bootstrap ClusterRole (the EKS-like
// Kubernetes stand-in). Each problem the checks report is made the way it happens on AWS.
import { freePort } from '../../lib/adapters/local/free-port.js';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClusterHealthChecks } from '../../agent/cluster-health-checks.js';
import { probeCluster } from '../../agent/cluster-health-probe.js';
import { makeDynamoClient, makeEksClient } from '../../lib/adapters/aws/clients.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { EksClusterDirectory } from '../../lib/adapters/aws/eks-cluster-directory.js';
import { type EmbeddedStore, startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';
import { IMPERSONATOR_GROUP } from '../../lib/core/eks-access.js';
import { type ClusterHealth, KUBE_CLUSTER_STATUS_KIND } from '../../lib/core/kube-cluster-health.js';
import type { KubeCluster } from '../../lib/core/resources.js';
import { type EksStandIn, startEksStandIn } from '../support/eks-stand-in.js';
import { AGENT_TASK_ROLE_ARN, type EksKubeCluster, startEksKubeCluster } from '../support/eks-kube-cluster.js';
import { AGENT_TASK_ROLE, type StsStandIn, startStsStandIn } from '../support/sts-stand-in.js';

const region = 'eu-west-1';
const now = new Date('2026-12-03T03:00:00Z');
const clock = { now: () => now };
const noTimers = { setTimeout: () => 0, clearTimeout: () => undefined };
const agentCredentials = () =>
  Promise.resolve({
    accessKeyId: AGENT_TASK_ROLE.accessKeyId,
    secretAccessKey: AGENT_TASK_ROLE.secretAccessKey,
    sessionToken: AGENT_TASK_ROLE.sessionToken!,
  });

let dynamo: EmbeddedStore;
let dynamoClient: DynamoDBClient;
let sts: StsStandIn;
let eks: EksStandIn;
let prod: EksKubeCluster;
let closedPort: number;
let tableNo = 0;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
  dynamoClient = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
  sts = await startStsStandIn({ region, identities: [AGENT_TASK_ROLE], now: () => now });
  eks = await startEksStandIn({ region });
  prod = await startEksKubeCluster({ name: 'prod', sts, eks });
  // A port nothing listens on: connections are refused.
  closedPort = await freePort();
}, 60_000);

afterAll(async () => {
  await prod?.close();
  await eks?.close();
  await sts?.close();
  dynamoClient?.destroy();
  await dynamo?.close();
});

let resources: DynamoResourceStore;

beforeEach(async () => {
  const tables = tableNamesWithPrefix(`ekshealth${tableNo++}-`);
  await createTables(dynamoClient, tables);
  resources = new DynamoResourceStore(dynamoClient, tables.resources);
  prod.accessEntries.set(AGENT_TASK_ROLE_ARN, [IMPERSONATOR_GROUP]);
  prod.setImpersonatorBound(true);
  eks.deniedDescribe.clear();
});

async function register(name: string, eksName = name) {
  const body: KubeCluster = {
    kind: 'kube_cluster',
    version: 'v3',
    metadata: { name, labels: {} },
    spec: { source: 'eks', eks: { name: eksName, region } },
  };
  await resources.put('kube_cluster', name, body);
}

/** A directory with nothing cached, reaching EKS and STS through the stand-ins as the agent's task role. */
function freshDirectory(): EksClusterDirectory {
  return new EksClusterDirectory({
    resources,
    clock,
    credentials: agentCredentials,
    eksClient: (clientRegion, credentials) => makeEksClient({ region: clientRegion, endpoint: eks.url, credentials }),
    stsEndpoint: sts.url,
  });
}

/** A fresh directory and checks per test: nothing cached from another test's state. */
async function checkOnce(log: string[] = []): Promise<ClusterHealthChecks> {
  const clusters = freshDirectory();
  const checks = new ClusterHealthChecks({
    resources,
    agent: 'task-1',
    probe: (cluster) => probeCluster({ clusters, clock, agent: 'task-1', agentRoleArn: AGENT_TASK_ROLE_ARN, timeoutMs: 5_000 }, cluster),
    timers: noTimers,
    log: (line) => log.push(line),
  });
  try {
    await checks.start();
  } finally {
    await checks.stop();
    clusters.close();
  }
  return checks;
}

describe('EKS cluster health', () => {
  it('is healthy when the access entry maps the agent role and the bootstrap ClusterRole is applied; the status is stored', async () => {
    await register('prod');
    const checks = await checkOnce();
    expect(checks.current('prod')).toEqual({ cluster: 'prod', status: 'healthy', checked_at: now.toISOString(), agent: 'task-1' });
    expect((await resources.get<ClusterHealth>(KUBE_CLUSTER_STATUS_KIND, 'prod'))?.body.status).toBe('healthy');
    // The reviews were made with the agent's own presigned token, accepted through the access entry.
    expect(prod.tokens.at(-1)).toMatchObject({ principalArn: AGENT_TASK_ROLE_ARN });
    expect(prod.tokens.at(-1)?.refused).toBeUndefined();
  });

  it("reports a missing access entry as token_refused, naming the command with the agent's role ARN", async () => {
    await register('prod');
    prod.accessEntries.delete(AGENT_TASK_ROLE_ARN);
    const health = (await checkOnce()).current('prod');
    expect(health).toMatchObject({ status: 'unhealthy', problem: 'token_refused' });
    expect(health?.fix).toContain(
      `aws eks create-access-entry --cluster-name prod --region ${region} --principal-arn ${AGENT_TASK_ROLE_ARN} --kubernetes-groups ${IMPERSONATOR_GROUP} --type STANDARD`,
    );
  });

  it('reports a missing impersonation ClusterRole as cannot_impersonate, naming tctl kube bootstrap', async () => {
    await register('prod');
    prod.setImpersonatorBound(false);
    const log: string[] = [];
    const health = (await checkOnce(log)).current('prod');
    expect(health).toMatchObject({ status: 'unhealthy', problem: 'cannot_impersonate' });
    expect(health?.reason).toContain('users, groups, serviceaccounts');
    expect(health?.fix).toBe('as a cluster admin: tctl kube bootstrap prod | kubectl apply -f -');
    expect(log).toEqual([`cluster prod is unhealthy (cannot_impersonate): ${health?.reason} — fix: ${health?.fix}`]);
  });

  it('reports a cluster EKS does not know, or will not describe to the agent, as describe_failed with its fix', async () => {
    await register('ghost');
    await register('secret', 'prod');
    eks.deniedDescribe.add('prod');
    const checks = await checkOnce();
    expect(checks.current('ghost')).toMatchObject({ status: 'unhealthy', problem: 'describe_failed' });
    expect(checks.current('ghost')?.fix).toContain(`aws eks list-clusters --region ${region}`);
    expect(checks.current('secret')).toMatchObject({ status: 'unhealthy', problem: 'describe_failed' });
    expect(checks.current('secret')?.fix).toBe(
      `allow ${AGENT_TASK_ROLE_ARN} eks:DescribeCluster on arn:aws:eks:${region}:<account>:cluster/prod`,
    );
  });

  it('reports an endpoint the agent cannot connect to as unreachable, pointing at security groups', async () => {
    eks.addCluster({
      name: 'walled',
      endpoint: `https://127.0.0.1:${closedPort}`,
      caData: Buffer.from(prod.kube.caPem).toString('base64'),
    });
    try {
      await register('walled');
      const health = (await checkOnce()).current('walled');
      expect(health).toMatchObject({ status: 'unhealthy', problem: 'unreachable' });
      expect(health?.fix).toContain("allow TCP 443 from the agent's security group to the cluster security group");
    } finally {
      eks.removeCluster('walled');
    }
  });

  it('drops the cached description of a cluster it found unreachable: the next resolve gets the moved endpoint', async () => {
    const caData = Buffer.from(prod.kube.caPem).toString('base64');
    eks.addCluster({ name: 'moving', endpoint: `https://127.0.0.1:${closedPort}`, caData });
    const clusters = freshDirectory();
    try {
      await register('moving');
      const describes = () => eks.calls.get('DescribeCluster') ?? 0;
      expect((await clusters.resolve('moving'))?.server.port).toBe(String(closedPort));
      // The cluster moves (a recreated cluster, a new endpoint): the description is cached for minutes.
      eks.addCluster({ name: 'moving', endpoint: prod.kube.url, caData });
      const before = describes();
      expect((await clusters.resolve('moving'))?.server.port).toBe(String(closedPort));
      expect(describes()).toBe(before);
      const probe = (name: string) =>
        probeCluster(
          { clusters, clock, agent: 'task-1', agentRoleArn: AGENT_TASK_ROLE_ARN, timeoutMs: 5_000 },
          { name, eks: { name, region } },
        );
      expect(await probe('moving')).toMatchObject({ status: 'unhealthy', problem: 'unreachable' });
      // The unreachable verdict dropped it: the next resolve describes again and gets the new endpoint.
      expect((await clusters.resolve('moving'))?.server.origin).toBe(new URL(prod.kube.url).origin);
      expect(describes()).toBe(before + 1);
      // The next check reaches the API server there (which refuses a token signed for another cluster's name).
      expect(await probe('moving')).toMatchObject({ status: 'unhealthy', problem: 'token_refused' });
      expect(prod.tokens.at(-1)?.refused).toBeDefined();
      // Only an unreachable verdict drops the description.
      expect(describes()).toBe(before + 1);
    } finally {
      clusters.close();
      eks.removeCluster('moving');
    }
  });

  it('does not drop a description for a verdict other than unreachable', async () => {
    await register('prod');
    const clusters = freshDirectory();
    try {
      prod.setImpersonatorBound(false);
      const describes = () => eks.calls.get('DescribeCluster') ?? 0;
      const health = await probeCluster(
        { clusters, clock, agent: 'task-1', timeoutMs: 5_000 },
        { name: 'prod', eks: { name: 'prod', region } },
      );
      expect(health).toMatchObject({ problem: 'cannot_impersonate' });
      const before = describes();
      await clusters.resolve('prod');
      expect(describes()).toBe(before);
    } finally {
      clusters.close();
    }
  });
});
