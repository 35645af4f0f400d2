// The real kubectl through the real agent to an EKS-like cluster: the agent resolves the cluster
// with EksClusterDirectory (DescribeCluster on the EKS stand-in) and sends, on every request
// (plain, watch, exec), the EKS token of its own IAM role, which the cluster checks through the
// STS stand-in and maps to the impersonator group by its access entry. The token is taken at
// request time: after it expires, an open exec session keeps running (EKS checks a token only
// when a connection is made) and the next request carries a new one. The client's own
// Authorization header never reaches the cluster. Time moves on the shared clock, without sleeping.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EKS_TOKEN_PREFIX } from '../../lib/adapters/aws/eks-token.js';
import { IMPERSONATOR_GROUP } from '../../lib/core/eks-access.js';
import type { ClusterHealth } from '../../lib/core/kube-cluster-health.js';
import { type RecordedRequest, headerValues } from '../../lib/demo/kube-apiserver.js';
import { type AgentHarness, type ClientCredentials, rawUpgrade, startAgentHarness } from '../support/agent-harness.js';
import { type KubectlUser, kubectlUser } from '../support/agent-kubectl.js';
import { collectOutput } from '../support/cli.js';
import { echoThrough, whenForwarding } from '../support/port-forward.js';
import { AGENT_TASK_ROLE_ARN, type EksKubeCluster } from '../support/eks-kube-cluster.js';
import { type EksWorld, WORLD_REGION, startEksWorld } from '../support/eks-world.js';
import { AGENT_TASK_ROLE } from '../support/sts-stand-in.js';

const CLIENT_TOKEN = 'client-own-token-must-not-pass';
let world: EksWorld;
let dev: EksKubeCluster;
let h: AgentHarness;
let alice: KubectlUser;
let aliceCredentials: ClientCredentials;
const children: ChildProcess[] = [];
const health = new Map<string, ClusterHealth>();

beforeAll(async () => {
  world = await startEksWorld();
  dev = await world.addCluster({ name: 'dev-eks', kube: { streams: { intervalMs: 200, durationMs: 60_000 } } });
  await world.register('dev', { eks: { name: 'dev-eks', region: WORLD_REGION } }, { env: 'dev' });
  await world.register('gone', { eks: { name: 'no-such-eks', region: WORLD_REGION } }, { env: 'dev' });
  // prod stays a kubeconfig cluster: the harness's own stand-in, through the same directory.
  await world.register('prod', { source: 'kubeconfig' }, { env: 'prod' });
  // Hidden from dev-only users: in another account (AssumeRole) and unknown to EKS.
  await world.register(
    'secret',
    { eks: { name: 'secret-eks', region: WORLD_REGION, role_arn: 'arn:aws:iam::210987654321:role/kubeport-access' } },
    { env: 'secret', owner: 'payments-team' },
  );
  h = await startAgentHarness({
    clock: world.clock,
    clusterDirectory: (kubeconfig) => world.directory({ kubeconfig }),
    clusterHealth: { current: (cluster) => health.get(cluster) },
    limits: { streamRecheckMs: 100 },
  });
  alice = await kubectlUser(h, mkdtempSync(join(tmpdir(), 'kubeport-eks-upstream-')), 'alice', ['access']);
  aliceCredentials = await h.issue({ username: 'alice' });
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});
afterAll(async () => {
  await h.close();
  await world.close();
});

/** The one Authorization value of a recorded request (throws when there are several). */
function authorization(request: RecordedRequest): string {
  const values = headerValues(request, 'authorization');
  expect(values).toHaveLength(1);
  return values[0]!;
}

const tokenOf = (request: RecordedRequest) => authorization(request).replace(/^Bearer /, '');

/** Every request the cluster got since `from` carried an EKS token the cluster accepted, and nothing of the client's. */
function expectOnlyEksTokens(from: number): RecordedRequest[] {
  const requests = dev.kube.requests.slice(from);
  expect(requests.length).toBeGreaterThan(0);
  for (const request of requests) {
    expect(authorization(request)).toMatch(new RegExp(`^Bearer ${EKS_TOKEN_PREFIX.replace('.', '\\.')}`));
    expect(JSON.stringify(request.headers)).not.toContain(CLIENT_TOKEN);
    expect(request.authenticated).toMatchObject({ username: AGENT_TASK_ROLE.arn, groups: [IMPERSONATOR_GROUP, 'system:authenticated'] });
  }
  return requests;
}

describe('kubectl through the agent to an EKS cluster', () => {
  it("gets pods as the user, the agent authenticating with its role's EKS token", async () => {
    const from = dev.kube.requests.length;
    const get = await alice.kubectl('get', 'pods', '-o', 'name');
    expect(get.stderr).toBe('');
    expect(get.stdout).toBe('pod/web-0\npod/web-1\n');
    const requests = expectOnlyEksTokens(from);
    const list = requests.find((r) => r.path.startsWith('/api/v1/namespaces/default/pods'))!;
    expect(list.effective).toMatchObject({ username: 'alice', groups: ['devs', 'system:authenticated'] });
    expect(dev.tokens.at(-1)).toMatchObject({ principalArn: AGENT_TASK_ROLE_ARN });
  });

  it("never forwards the client's own Authorization header: plain, discovery and exec", async () => {
    const from = dev.kube.requests.length;
    // kubectl sends its --token as Authorization next to its client certificate.
    const get = await alice.kubectl('get', 'pods', '--token', CLIENT_TOKEN, '--cache-dir', join(alice.home, 'fresh-cache'));
    expect(get.code, get.stderr).toBe(0);
    const exec = await alice.kubectl('exec', 'web-0', '--token', CLIENT_TOKEN, '--', 'echo', 'hi');
    expect(exec.stdout).toBe('hi\n');
    // A raw upgrade with a forged EKS-looking token, and a plain request with two Authorization headers.
    const forged = `Bearer ${EKS_TOKEN_PREFIX}${Buffer.from('https://sts.amazonaws.com/?Action=GetCallerIdentity').toString('base64url')}`;
    const upgrade = h.open(
      rawUpgrade('/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=echo&command=x&stdout=true', `Authorization: ${forged}\r\n`),
      aliceCredentials,
    );
    await expect.poll(() => upgrade.received()).toMatch(/^HTTP\/1\.1 101 /);
    upgrade.socket.destroy();
    const plain = await h.request('/k8s/dev/api/v1/namespaces', {
      credentials: aliceCredentials,
      headers: [
        ['Authorization', `Bearer ${CLIENT_TOKEN}`],
        ['authorization', forged],
      ],
    });
    expect(plain.status).toBe(200);
    const requests = expectOnlyEksTokens(from);
    expect(requests.some((r) => r.path.includes('/exec'))).toBe(true);
    expect(requests.some((r) => r.path.split('?')[0] === '/api')).toBe(true);
    for (const request of requests) expect(authorization(request)).not.toBe(forged);
  });

  it('watches pods, the watch carrying the EKS token', async () => {
    const from = dev.kube.requests.length;
    const watch = spawn('kubectl', ['get', 'pods', '--watch'], {
      env: alice.env,
      cwd: alice.home,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(watch);
    const output = collectOutput(watch);
    // The list (web-0, web-1), then a change of web-0 that came over the watch.
    await output.waitFor(/^web-1\s.*\n(.*\n)*web-0\s/m);
    const requests = expectOnlyEksTokens(from);
    expect(requests.some((r) => r.path.includes('watch=true'))).toBe(true);
  });

  it('port-forwards to a pod, the upgrade carrying the EKS token', async () => {
    const from = dev.kube.requests.length;
    const child = spawn('kubectl', ['port-forward', 'pod/web-0', ':9000'], {
      env: alice.env,
      cwd: alice.home,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const forward = await whenForwarding(child, [9000]);
    const echo = await echoThrough(forward.local.get(9000)!, 64 * 1024);
    expect(echo.receivedSha256).toBe(echo.sentSha256);
    await forward.stop();
    const requests = expectOnlyEksTokens(from);
    expect(requests.some((r) => r.path.includes('/portforward'))).toBe(true);
  });

  it('keeps an exec -i session running across token expiry, and the next request carries a new token', async () => {
    const exec = spawn('kubectl', ['exec', '-i', 'web-0', '--', 'cat'], {
      env: alice.env,
      cwd: alice.home,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(exec);
    const output = collectOutput(exec);
    exec.stdin.write('before expiry\n');
    await output.waitFor(/before expiry\n/);
    const execRequest = dev.kube.requests.findLast((r) => r.path.includes('/exec'))!;
    const oldToken = tokenOf(execRequest);
    expect(world.sts.verifyEksToken(oldToken, 'dev-eks').principalArn).toBe(AGENT_TASK_ROLE_ARN);

    // 16 minutes later: EKS takes the old token no more.
    world.clock.advance(16 * 60_000);
    expect(() => world.sts.verifyEksToken(oldToken, 'dev-eks')).toThrow(/expired/);

    exec.stdin.write('after expiry\n');
    await output.waitFor(/before expiry\nafter expiry\n/);

    const from = dev.kube.requests.length;
    const get = await alice.kubectl('get', 'pods', '-o', 'name');
    expect(get.code, get.stderr).toBe(0);
    const requests = expectOnlyEksTokens(from);
    const newToken = tokenOf(requests.at(-1)!);
    expect(newToken).not.toBe(oldToken);
    expect(dev.tokens.at(-1)).toEqual({ token: newToken, principalArn: AGENT_TASK_ROLE_ARN });

    // The session is still alive after all that, and ends cleanly when its input does.
    exec.stdin.write('still here\n');
    await output.waitFor(/after expiry\nstill here\n/);
    const exited = new Promise<number | null>((resolve) => exec.once('exit', resolve));
    exec.stdin.end();
    expect(await exited).toBe(0);
  });

  it('answers a cluster EKS cannot describe with a 503 that kubectl prints', async () => {
    const answer = await h.request('/k8s/gone/api/v1/namespaces/default/pods', { credentials: aliceCredentials });
    expect(answer.status).toBe(503);
    const message = `kube cluster gone cannot be reached: EKS has no cluster no-such-eks in region ${WORLD_REGION}; check the name and region of the kube_cluster's eks source (aws eks list-clusters --region ${WORLD_REGION})`;
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable', message });
    const get = await alice.kubectl('get', 'pods', '--server', `https://127.0.0.1:${h.port}/k8s/gone`);
    expect(get.code).not.toBe(0);
    expect(get.stderr).toContain(message);
  });

  it('still reaches a kubeconfig-source cluster through the same directory', async () => {
    const from = h.kube.requests.length;
    const get = await alice.kubectl('--context', 'prod', 'get', 'pods', '-o', 'name');
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toBe('pod/web-0\npod/web-1\n');
    // The harness's own stand-in knows the agent by its client certificate, and gets no token.
    for (const request of h.kube.requests.slice(from)) expect(headerValues(request, 'authorization')).toEqual([]);
  });
});

describe('a cluster the roles do not allow', () => {
  const notFound = (name: string) => `kubernetes cluster "${name}" not found; tsh kube ls lists the clusters you may reach`;
  let bob: ClientCredentials;
  beforeAll(async () => {
    h.roles.set('dev-only', {
      ...h.roles.get('access')!,
      metadata: { name: 'dev-only' },
      spec: { ...h.roles.get('access')!.spec, allow: { ...h.roles.get('access')!.spec.allow, kubernetes_labels: { env: 'dev' } } },
    });
    // Issued at real time: the TLS handshake checks validity by the real clock, which the earlier tests' advances left behind.
    bob = await h.issue({ username: 'bob', roles: ['dev-only'] }, { at: new Date() });
  });
  const awsCalls = () => ({ describes: world.eks.calls.get('DescribeCluster') ?? 0, sts: world.sts.calls });

  it('is answered as an unknown one, and the agent makes no AWS call for it (no DescribeCluster, no AssumeRole)', async () => {
    const before = awsCalls();
    for (const path of [
      '/k8s/secret/api/v1/namespaces/default/pods',
      '/k8s/secret/api',
      '/k8s/secret/api/v1/namespaces/default/pods/web-0',
    ]) {
      const hidden = await h.request(path, { credentials: bob });
      const unknown = await h.request(path.replace('/k8s/secret/', '/k8s/nosuch/'), { credentials: bob });
      expect(hidden.status).toBe(404);
      expect(hidden.body.replaceAll('secret', 'X')).toBe(unknown.body.replaceAll('nosuch', 'X'));
      expect(hidden.body).toContain(notFound('secret').replaceAll('"', path.endsWith('/api') ? '"' : '\\"'));
      for (const leak of ['payments', 'env', 'secret-eks', WORLD_REGION, '210987654321', 'unavailable', 'reached']) {
        expect(hidden.body).not.toContain(leak);
      }
    }
    const upgrade = await h.raw(rawUpgrade('/k8s/secret/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdout=true'), bob);
    expect(upgrade).toMatch(/^HTTP\/1\.1 404 /);
    expect(upgrade).not.toContain('secret-eks');
    expect(awsCalls()).toEqual(before);
  });

  it('tells nothing of its health to a user who may not see it; a user who may gets the reason', async () => {
    health.set('secret', {
      cluster: 'secret',
      status: 'unhealthy',
      problem: 'unreachable',
      reason: 'no connection to the API server',
      fix: "allow TCP 443 from the agent's security group",
      checked_at: world.clock.now().toISOString(),
      agent: 'agent-1',
    });
    try {
      const before = awsCalls();
      const hidden = await h.request('/k8s/secret/api/v1/namespaces/default/pods', { credentials: bob });
      expect(hidden.status).toBe(404);
      expect(JSON.parse(hidden.body).message).toBe(notFound('secret'));
      expect(awsCalls()).toEqual(before);
      // alice's roles allow it: she learns why it is down, still without the agent calling AWS for it.
      const shown = await h.request('/k8s/secret/api/v1/namespaces/default/pods', { credentials: aliceCredentials });
      expect(shown.status).toBe(503);
      expect(JSON.parse(shown.body).message).toContain('kube cluster secret is unhealthy: no connection to the API server');
      expect(awsCalls()).toEqual(before);
    } finally {
      health.delete('secret');
    }
  });

  it('is reached only once authorized: an allowed user gets the 503 naming why the agent cannot reach it', async () => {
    const before = awsCalls();
    const shown = await h.request('/k8s/secret/api/v1/namespaces/default/pods', { credentials: aliceCredentials });
    expect(shown.status).toBe(503);
    expect(JSON.parse(shown.body).message).toMatch(/^kube cluster secret cannot be reached: /);
    expect(awsCalls().sts).toBeGreaterThan(before.sts);
    // Visible clusters keep their detail for bob too: the dev-labelled one EKS does not know.
    const gone = await h.request('/k8s/gone/api/v1/namespaces/default/pods', { credentials: bob });
    expect(gone.status).toBe(503);
    expect(JSON.parse(gone.body).message).toMatch(/^kube cluster gone cannot be reached: EKS has no cluster no-such-eks/);
  });
});
