// EksClusterDirectory with the real EKS and STS SDK clients against the stand-ins: a kube_cluster
// with an eks source resolves to the endpoint and CA DescribeCluster gives and a token its
// cluster takes; a role_arn is assumed; failures are 503s that say why; other sources go to the
// kubeconfig directory.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterUnavailableError } from '../../lib/adapters/aws/eks-cluster-directory.js';
import { KubeportError } from '../../lib/core/errors.js';
import type { UpstreamCluster } from '../../lib/core/ports.js';
import { AGENT_TASK_ROLE_ARN, type EksKubeCluster } from '../support/eks-kube-cluster.js';
import { type EksWorld, WORLD_REGION, startEksWorld } from '../support/eks-world.js';
import { AGENT_TASK_ROLE } from '../support/sts-stand-in.js';

const partnerRole = 'arn:aws:iam::444455556666:role/kubeport-eks-access';
// Trusts the agent, but the agent's own policy does not allow assuming it.
const trustingOnlyRole = 'arn:aws:iam::444455556666:role/trusting-only';
let world: EksWorld;
let prod: EksKubeCluster;
let partner: EksKubeCluster;

beforeAll(async () => {
  // Cross-account, as AWS requires: the partner role trusts the agent's, and the agent's own policy allows assuming it.
  world = await startEksWorld({
    trusts: { [partnerRole]: [AGENT_TASK_ROLE_ARN], [trustingOnlyRole]: [AGENT_TASK_ROLE_ARN] },
    permits: { [AGENT_TASK_ROLE_ARN]: [partnerRole] },
  });
  prod = await world.addCluster({ name: 'prod-eks' });
  partner = await world.addCluster({ name: 'partner-eks', accessEntries: { [partnerRole]: ['kubeport:impersonator'] } });
  await world.register('prod', { eks: { name: 'prod-eks', region: WORLD_REGION } }, { env: 'prod' });
  await world.register('partner', { eks: { name: 'partner-eks', region: WORLD_REGION, role_arn: partnerRole } });
  await world.register('gone', { eks: { name: 'no-such-cluster', region: WORLD_REGION } });
  await world.register('denied', { eks: { name: 'denied-eks', region: WORLD_REGION } });
  world.eks.addCluster({ name: 'denied-eks' });
  world.eks.deniedDescribe.add('denied-eks');
  await world.register('local', { source: 'kubeconfig' }, { env: 'dev' });
});
afterAll(() => world.close());

/** GET path on the resolved cluster with its bearer token, as the agent sends it. */
async function get(cluster: UpstreamCluster, path: string): Promise<number> {
  const token = await cluster.bearerToken!();
  return new Promise((resolve, reject) => {
    https
      .get(new URL(path, cluster.server), { ca: cluster.tls.ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

const failure = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClusterUnavailableError);
  return error as ClusterUnavailableError;
};

describe('EksClusterDirectory', () => {
  it("resolves an eks source to its endpoint and CA, with a token its cluster takes as the agent's role", async () => {
    const directory = world.directory();
    const cluster = (await directory.resolve('prod'))!;
    expect(cluster).toMatchObject({ name: 'prod', labels: { env: 'prod' }, tls: { ca: prod.kube.caPem } });
    expect(cluster.server.origin).toBe(prod.kube.url);
    expect(await get(cluster, '/api/v1/namespaces')).toBe(200);
    expect(prod.tokens.at(-1)).toMatchObject({ principalArn: AGENT_TASK_ROLE_ARN });
    expect(prod.tokens.at(-1)?.refused).toBeUndefined();
    expect(world.eks.lastAccessKeyId).toBe(AGENT_TASK_ROLE.accessKeyId);
  });

  it('describes a cluster once while its description is fresh, and again after', async () => {
    const directory = world.directory({ describeRefreshMs: 60_000 });
    const before = world.eks.calls.get('DescribeCluster') ?? 0;
    await Promise.all([directory.resolve('prod'), directory.resolve('prod')]);
    await directory.resolve('prod');
    expect(world.eks.calls.get('DescribeCluster')).toBe(before + 1);
    world.clock.advance(61_000);
    await directory.resolve('prod');
    expect(world.eks.calls.get('DescribeCluster')).toBe(before + 2);
  });

  it('renews the description of a cluster in use ahead of requests, until closed', async () => {
    const directory = world.directory({ describeRefreshMs: 60_000, warmEveryMs: 10 });
    await directory.resolve('prod');
    const described = () => world.eks.calls.get('DescribeCluster') ?? 0;
    const before = described();
    world.clock.advance(61_000);
    // No request: the directory's own round describes it again.
    await expect.poll(described).toBe(before + 1);
    directory.close();
    world.clock.advance(61_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(described()).toBe(before + 1);
  });

  it('signs a new token after the renewal time, and the same one before', async () => {
    const directory = world.directory({ tokenRenewAfterMs: 30_000 });
    const cluster = (await directory.resolve('prod'))!;
    const first = await cluster.bearerToken!();
    world.clock.advance(10_000);
    expect(await (await directory.resolve('prod'))!.bearerToken!()).toBe(first);
    world.clock.advance(21_000);
    // The cluster resolved before the renewal asks at request time, so it too gets the new token.
    const second = await cluster.bearerToken!();
    expect(second).not.toBe(first);
    expect(await get(cluster, '/api/v1/namespaces')).toBe(200);
  });

  it("assumes the source's role for a cluster in another account, and signs its token as that role", async () => {
    const directory = world.directory();
    const cluster = (await directory.resolve('partner'))!;
    expect(cluster.server.origin).toBe(partner.kube.url);
    // DescribeCluster was signed by the assumed session, not the task role.
    expect(world.eks.lastAccessKeyId).toMatch(/^ASIA/);
    expect(world.eks.lastAccessKeyId).not.toBe(AGENT_TASK_ROLE.accessKeyId);
    expect(await get(cluster, '/api/v1/namespaces')).toBe(200);
    expect(partner.tokens.at(-1)).toEqual({ token: expect.any(String) as string, principalArn: partnerRole });
  });

  it('answers a missing EKS cluster, a denied DescribeCluster and a cluster that is not ACTIVE with 503s naming the reason', async () => {
    const directory = world.directory();
    const gone = await failure(directory.resolve('gone'));
    expect(gone.httpStatus).toBe(503);
    expect(gone.message).toBe(
      `kube cluster gone cannot be reached: EKS has no cluster no-such-cluster in region ${WORLD_REGION}; check the name and region of the kube_cluster's eks source (aws eks list-clusters --region ${WORLD_REGION})`,
    );
    const denied = await failure(directory.resolve('denied'));
    expect(denied.httpStatus).toBe(503);
    expect(denied.message).toMatch(
      /^kube cluster denied cannot be reached: the agent may not describe EKS cluster denied-eks .*\(AccessDeniedException\); grant its task role eks:DescribeCluster/,
    );

    world.eks.setStatus('prod-eks', 'CREATING');
    try {
      const creating = await failure(world.directory().resolve('prod'));
      expect(creating.message).toBe(
        `kube cluster prod cannot be reached: EKS cluster prod-eks in region ${WORLD_REGION} is CREATING, not ACTIVE; it can be reached once it is ACTIVE again`,
      );
    } finally {
      world.eks.setStatus('prod-eks', 'ACTIVE');
    }
  });

  it('refuses a role the agent may not assume with a 503 that says to fix its trust policy', async () => {
    await world.register('untrusted', {
      eks: { name: 'partner-eks', region: WORLD_REGION, role_arn: 'arn:aws:iam::444455556666:role/not-trusting' },
    });
    const error = await failure(world.directory().resolve('untrusted'));
    expect(error.message).toMatch(/^kube cluster untrusted cannot be reached: .*not-trusting/);
    expect(error.message).toMatch(/trust policy/);
  });

  it("refuses a role of another account the agent's own policy does not allow, even one whose trust policy names the agent", async () => {
    await world.register('unpermitted', { eks: { name: 'partner-eks', region: WORLD_REGION, role_arn: trustingOnlyRole } });
    const error = await failure(world.directory().resolve('unpermitted'));
    expect(error.message).toMatch(
      /^kube cluster unpermitted cannot be reached: .*no identity-based policy allows the sts:AssumeRole action/,
    );
    expect(error.message).toMatch(/task role's own policy must allow sts:AssumeRole/);
  });

  it('gives kubeconfig-source clusters to the kubeconfig directory, and knows no unregistered name', async () => {
    const local: UpstreamCluster = { name: 'local', labels: { env: 'dev' }, server: new URL('https://127.0.0.1:1'), tls: {} };
    const asked: string[] = [];
    const directory = world.directory({
      kubeconfig: {
        registered: (name) => Promise.resolve(name === 'local' ? { name, labels: local.labels } : undefined),
        resolve: (name) => {
          asked.push(name);
          return Promise.resolve(name === 'local' ? local : undefined);
        },
      },
    });
    expect(await directory.resolve('local')).toBe(local);
    expect(await directory.resolve('nobody')).toBeUndefined();
    // Only registered kubeconfig clusters are passed on; eks ones never are.
    await directory.resolve('prod');
    expect(asked).toEqual(['local']);
    expect(await world.directory().resolve('local')).toBeUndefined();
  });

  it('gives the registered name and labels without any AWS call, even for a role_arn source or a cluster EKS does not know', async () => {
    const directory = world.directory({
      kubeconfig: {
        registered: (name) => Promise.resolve(name === 'local' ? { name, labels: { from: 'kubeconfig' } } : undefined),
        resolve: () => Promise.resolve(undefined),
      },
    });
    const calls = () => ({ eks: [...world.eks.calls.values()].reduce((a, b) => a + b, 0), sts: world.sts.calls });
    const before = calls();
    expect(await directory.registered('prod')).toEqual({ name: 'prod', labels: { env: 'prod' } });
    expect(await directory.registered('partner')).toEqual({ name: 'partner', labels: {} });
    expect(await directory.registered('gone')).toEqual({ name: 'gone', labels: {} });
    expect(await directory.registered('denied')).toEqual({ name: 'denied', labels: {} });
    expect(await directory.registered('nobody')).toBeUndefined();
    // A kubeconfig-source cluster is the kubeconfig directory's to say (it may have no address for it).
    expect(await directory.registered('local')).toEqual({ name: 'local', labels: { from: 'kubeconfig' } });
    expect(await world.directory().registered('local')).toBeUndefined();
    expect(calls()).toEqual(before);
  });

  it('invalidate makes the next resolve describe again; an unknown name is ignored', async () => {
    const directory = world.directory();
    const describes = () => world.eks.calls.get('DescribeCluster') ?? 0;
    await directory.resolve('prod');
    const before = describes();
    await directory.resolve('prod');
    expect(describes()).toBe(before);
    directory.invalidate('prod');
    directory.invalidate('nobody');
    await directory.resolve('prod');
    expect(describes()).toBe(before + 1);
  });

  it('keeps the error typed for the agent: a KubeportError of code unavailable', async () => {
    const error = await failure(world.directory().resolve('gone'));
    expect(error).toBeInstanceOf(KubeportError);
    expect(error.code).toBe('unavailable');
    expect(error.cluster).toBe('gone');
  });
});
