// `npm run agent` in AWS mode, as the Fargate task runs it: its own process, configured by
// environment variables only, reaching DynamoDB, S3, STS and EKS through the SDK's
// AWS_ENDPOINT_URL_* variables (loopback stand-ins), its certificate from the IAM-authorized
// host-cert route, and the real kubectl of a user through it to EKS-like clusters that accept the
// agent's token only as EKS does. One agent serves every test; SIGTERM comes last.
import { mkdirSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterHealth } from '../../lib/core/kube-cluster-health.js';
import type { KubeCluster } from '../../lib/core/resources.js';
import { cliPath, node, run } from '../support/cli.js';
import { type EksKubeCluster, startEksKubeCluster } from '../support/eks-kube-cluster.js';
import type { IamPrincipal } from '../support/iam-api-gateway.js';
import { startKubectl } from '../support/kubectl-process.js';
import {
  AGENT_DOMAIN_NAME,
  AGENT_ROLE_ARN,
  HOSTED_ZONE_ID,
  TASK_PUBLIC_IP,
  type AgentProcess,
  type AgentStandIns,
  OTHER_TASK_ROLE,
  runAgentToExit,
  startAgentProcess,
  startAgentStandIns,
} from '../support/agent-process.js';
import { AGENT_TASK_ROLE } from '../support/sts-stand-in.js';

/** A token lives this long in the clusters' eyes: the exec session below outlives the one it opened with. */
const TOKEN_LIFETIME_MS = 3_000;
const DRAIN_SECONDS = 2;

/** tctl --aws-iam's caller: a person with the stack's break-glass policy. */
const BREAK_GLASS: IamPrincipal = {
  accessKeyId: 'ASIABREAKGLASSAGENT',
  secretAccessKey: 'break-glass-agent-secret',
  userArn: 'arn:aws:sts::111122223333:assumed-role/KubeportBreakGlass/oncall',
  granted: true,
};

async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the agent in AWS mode (npm run agent)', () => {
  let aws: AgentStandIns;
  let dev: EksKubeCluster;
  let staging: EksKubeCluster;
  let noEntry: EksKubeCluster;
  let agent: AgentProcess;
  let home: string;
  let userEnv: NodeJS.ProcessEnv;
  /** Runs that must stop by themselves, started beside the agent so the file stays short. */
  let badConfig: ReturnType<typeof runAgentToExit>;
  let refusedCert: ReturnType<typeof runAgentToExit>;

  const kubectl = (...args: string[]) => run('kubectl', args, { env: userEnv, cwd: home });
  const status = async (cluster: string) => (await aws.api.deps.resources.get<ClusterHealth>('kube_cluster_status', cluster))?.body;

  beforeAll(async () => {
    aws = await startAgentStandIns({ tokenLifetimeMs: TOKEN_LIFETIME_MS, breakGlass: [BREAK_GLASS] });
    [dev, staging, noEntry] = await Promise.all([
      startEksKubeCluster({ name: 'dev', sts: aws.sts, eks: aws.eks }),
      // The bootstrap ClusterRole was never applied: the agent may not impersonate.
      startEksKubeCluster({ name: 'staging', sts: aws.sts, eks: aws.eks, impersonatorBound: false }),
      // No access entry maps the agent's role: its token is refused.
      startEksKubeCluster({ name: 'no-entry', sts: aws.sts, eks: aws.eks, accessEntries: {} }),
    ]);
    badConfig = runAgentToExit(aws.env({ KUBEPORT_AUDIT_TABLE: undefined, KUBEPORT_DRAIN_SECONDS: 'soon' }));
    // Another workload's role: IAM lets it call the API, the auth function certifies only the agent's role.
    refusedCert = runAgentToExit(aws.env({}, OTHER_TASK_ROLE));
    agent = await startAgentProcess(
      aws.env({
        ...aws.economy,
        KUBEPORT_EKS_CLUSTERS: 'dev,staging,no-entry',
        KUBEPORT_DISCOVERY_TAG: 'kubeport-discover=true',
        KUBEPORT_DISCOVERY_INTERVAL_SECONDS: '1',
        KUBEPORT_HEALTH_INTERVAL_SECONDS: '1',
        KUBEPORT_EKS_TOKEN_RENEW_SECONDS: '1',
        KUBEPORT_DRAIN_SECONDS: String(DRAIN_SECONDS),
      }),
    );

    // alice's kubectl, with a certificate of the deployment's user CA and the host CA to trust.
    home = join(aws.dir, 'alice');
    mkdirSync(home, { recursive: true });
    await aws.api.deps.resources.put('user', 'alice', {
      kind: 'user',
      version: 'v2',
      metadata: { name: 'alice' },
      spec: { roles: ['access'], traits: { kubernetes_groups: ['developers'] } },
    });
    const credentials = await aws.api.identity({ username: 'alice', roles: ['access'], traits: { kubernetes_groups: ['developers'] } });
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const clusters = ['dev', 'staging'].map((name) => ({
      name,
      cluster: { server: `https://${agent.address}/k8s/${name}`, 'certificate-authority-data': b64(aws.api.hostCa.certPem) },
    }));
    writeFileSync(
      join(home, 'config'),
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters,
        users: [
          { name: 'alice', user: { 'client-certificate-data': b64(credentials.certPem), 'client-key-data': b64(credentials.keyPem) } },
        ],
        contexts: clusters.map(({ name }) => ({ name, context: { cluster: name, user: 'alice' } })),
        'current-context': 'dev',
      }),
    );
    userEnv = { ...process.env, HOME: home, KUBECONFIG: join(home, 'config'), KUBECACHEDIR: join(home, 'cache') };
  }, 60_000);

  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await Promise.all([dev?.close(), staging?.close(), noEntry?.close()]);
    await aws?.close();
  });

  it('a bad configuration stops it with one line per bad variable, naming it', async () => {
    const result = await badConfig;
    expect(result.code).toBe(2);
    const lines = result.output.trim().split('\n');
    expect(lines).toContain('kubeport agent: bad configuration: KUBEPORT_AUDIT_TABLE: is not set; the stack sets it');
    expect(lines.some((line) => line.startsWith('kubeport agent: bad configuration: KUBEPORT_DRAIN_SECONDS: '))).toBe(true);
    expect(lines).toHaveLength(2);
  });

  it('a refused host certificate stops it at start with one line naming the role to configure', async () => {
    const result = await refusedCert;
    expect(result.code).toBe(1);
    const lines = result.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kubeport agent: the agent certificate was refused: 403 /);
    expect(lines[0]).toContain('KUBEPORT_AGENT_ROLE_ARN must name this task role (arn:aws:iam::111122223333:role/some-other-service)');
  });

  it('serves kubectl get as the user, impersonated with the agent role the access entry maps', async () => {
    const got = await kubectl('get', 'pods', '-o', 'name');
    expect(got, got.stderr).toMatchObject({ code: 0, stdout: 'pod/web-0\npod/web-1\n' });
    const request = dev.kube.requests.findLast((r) => r.path.startsWith('/api/v1/namespaces/default/pods'))!;
    expect(request.effective).toMatchObject({ username: 'alice', groups: expect.arrayContaining(['developers']) });
    expect(request.authenticated?.username).toBe(AGENT_TASK_ROLE.arn);
    expect(dev.tokens.at(-1)).toMatchObject({ principalArn: AGENT_ROLE_ARN });
  });

  it('answers GET /healthz for the load balancer without a client certificate', async () => {
    const [host, port] = agent.address.split(':');
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      https
        .get({ host, port: Number(port), path: '/healthz', ca: aws.api.hostCa.certPem, servername: 'localhost' }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
    expect(answer).toEqual({ status: 200, body: JSON.stringify({ status: 'ok' }) });
  });

  it('keeps an exec -i session running after the token that opened it has expired', async () => {
    const exec = startKubectl(['exec', '-i', 'web-0', '--', 'cat'], userEnv, home);
    exec.child.stdin!.write('before expiry\n');
    await eventually('the first echo', () => (exec.stdout().includes('before expiry\n') ? true : undefined));
    // The newest token the cluster has seen: the session's own, or a later one (health checks sign too).
    const opened = dev.tokens.at(-1)!.token;
    // The token the session was opened with is refused now, as EKS would refuse it.
    await eventually(
      'the opening token to expire',
      () => {
        try {
          aws.sts.verifyEksToken(opened, 'dev');
          return undefined;
        } catch {
          return true;
        }
      },
      TOKEN_LIFETIME_MS + 5_000,
    );
    exec.child.stdin!.write('after expiry\n');
    await eventually('the second echo', () => (exec.stdout().includes('after expiry\n') ? true : undefined));
    exec.child.stdin!.end();
    expect(await exec.exited).toBe(0);
    // New requests carry a newer token.
    expect(await kubectl('get', 'pods', '-o', 'name')).toMatchObject({ code: 0 });
    expect(dev.tokens.at(-1)!.token).not.toBe(opened);
  });

  it('streams a watch', async () => {
    const watch = await kubectl('get', 'pods', '-w', '--request-timeout=5s');
    expect(watch.stdout).toMatch(/^web-0\s/m);
  });

  it('reports cannot_impersonate and token_refused naming the task role, as tctl get kube_clusters shows', async () => {
    const cannot = await eventually('staging to be unhealthy', async () =>
      (await status('staging'))?.status === 'unhealthy' ? status('staging') : undefined,
    );
    expect(cannot).toMatchObject({ problem: 'cannot_impersonate' });
    expect(cannot!.fix).toMatch(/tctl kube bootstrap staging/);
    const refused = await eventually('no-entry to be unhealthy', async () =>
      (await status('no-entry'))?.status === 'unhealthy' ? status('no-entry') : undefined,
    );
    expect(refused).toMatchObject({ problem: 'token_refused' });
    expect(refused!.fix).toContain(AGENT_ROLE_ARN);
    expect(await eventually('dev to be healthy', async () => ((await status('dev'))?.status === 'healthy' ? true : undefined))).toBe(true);

    const tctl = await node(cliPath('tctl'), ['--aws-iam', `--proxy=${aws.api.proxy}`, 'get', 'kube_clusters', '--format=text'], {
      env: aws.breakGlassEnv(BREAK_GLASS),
      cwd: home,
    });
    expect(tctl).toMatchObject({ code: 0, stderr: '' });
    const row = (name: string) => tctl.stdout.split('\n').find((line) => line.startsWith(`${name} `)) ?? '';
    expect(row('dev')).toMatch(/\bhealthy\b/);
    expect(row('staging')).toMatch(/\bunhealthy\b/);
    expect(row('no-entry')).toMatch(/\bunhealthy\b/);

    // The ClusterRole deleted from a working cluster is found at the next check, and its return too.
    dev.setImpersonatorBound(false);
    const lost = await eventually('dev to lose impersonation', async () => {
      const now = await status('dev');
      return now?.problem === 'cannot_impersonate' ? now : undefined;
    });
    expect(lost.fix).toMatch(/tctl kube bootstrap dev/);
    dev.setImpersonatorBound(true);
    await eventually('dev to be healthy again', async () => ((await status('dev'))?.status === 'healthy' ? true : undefined));
    await agent.waitFor(/cluster dev is healthy again/);
  });

  it('fails a request to an unhealthy cluster fast with the reason and the fix, and audits it', async () => {
    await eventually('staging to be unhealthy', async () => ((await status('staging'))?.status === 'unhealthy' ? true : undefined));
    const before = staging.kube.requests.length;
    const refused = await kubectl('--context', 'staging', 'get', 'pods');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('kube cluster staging is unhealthy');
    expect(refused.stderr).toContain('tctl kube bootstrap staging');
    // Answered by the agent: the cluster saw none of it.
    expect(staging.kube.requests.slice(before).filter((r) => r.effective?.username === 'alice')).toEqual([]);
    const window = { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) };
    const audited = await eventually('the refusal to be audited', async () => {
      const found = await aws.api.deps.audit.search({ ...window, event: 'kube.request', user: 'alice', cluster: 'staging' });
      return found.events.length > 0 ? found.events : undefined;
    });
    expect(audited[0]).toMatchObject({
      kubernetes_cluster: 'staging',
      message: expect.stringContaining('kube cluster staging is unhealthy'),
    });
    expect(audited[0]!.response_code).toBeGreaterThanOrEqual(500);
  });

  it('discovery registers a tagged cluster with its tags as labels, and removes it when it goes', async () => {
    aws.eks.addCluster({ name: 'payments', tags: { 'kubeport-discover': 'true', team: 'payments' } });
    const registered = await eventually(
      'payments to be registered',
      async () => (await aws.api.deps.resources.get<KubeCluster>('kube_cluster', 'payments'))?.body,
    );
    expect(registered.metadata.labels).toMatchObject({ team: 'payments', 'kubeport-discover': 'true' });
    expect(registered.spec).toMatchObject({ source: 'eks', eks: { name: 'payments', region: aws.eks.region } });
    aws.eks.removeCluster('payments');
    await eventually('payments to be removed', async () =>
      (await aws.api.deps.resources.get('kube_cluster', 'payments')) ? undefined : true,
    );
    // Configured clusters stay, whatever discovery finds.
    expect(await aws.api.deps.resources.get('kube_cluster', 'dev')).toBeDefined();
  });

  it('published its public address as the A record under KUBEPORT_AGENT_DOMAIN_NAME at start (economy)', () => {
    expect(aws.route53.records(HOSTED_ZONE_ID).get(`${AGENT_DOMAIN_NAME}. A`)).toMatchObject({ values: [TASK_PUBLIC_IP], ttl: 60 });
    expect(aws.route53.changes).toEqual([expect.objectContaining({ principal: AGENT_TASK_ROLE.arn, action: 'UPSERT' })]);
    expect(agent.output()).toContain(`published ${AGENT_DOMAIN_NAME} A ${TASK_PUBLIC_IP}`);
  });

  it('SIGTERM drains: open streams run until KUBEPORT_DRAIN_SECONDS, then end; it exits 0; the log holds no secret', async () => {
    const exec = startKubectl(['exec', '-i', 'web-0', '--', 'cat'], userEnv, home);
    exec.child.stdin!.write('still here\n');
    await eventually('the echo', () => (exec.stdout().includes('still here\n') ? true : undefined));
    const stopped = agent.stop('SIGTERM');
    await agent.waitFor(/SIGTERM: draining/);
    // New connections are refused while the session runs on.
    const refused = await kubectl('get', 'pods', '--request-timeout=3s');
    expect(refused.code).not.toBe(0);
    exec.child.stdin!.write('during the drain\n');
    await eventually('the echo during the drain', () => (exec.stdout().includes('during the drain\n') ? true : undefined));
    expect(await stopped).toBe(0);
    // The session ran to the deadline, then ended with a message the user sees.
    expect(await exec.exited).not.toBe(0);
    expect(exec.stderr()).toContain('the Kubeport agent is shutting down');
    expect(agent.output()).toMatch(/kubeport agent stopped/);
    // What the agent held of the audit was written before it exited.
    const window = { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) };
    const requests = await aws.api.deps.audit.search({ ...window, event: 'kube.request', user: 'alice', cluster: 'dev' });
    expect(requests.events.length).toBeGreaterThan(0);
    const sessions = await aws.api.deps.audit.search({ ...window, event: 'session.end', user: 'alice' });
    expect(sessions.events.length).toBeGreaterThan(0);
    // And copied to the archive bucket.
    expect((await aws.archiveKeys()).some((key) => key.startsWith('events/'))).toBe(true);

    const log = agent.output();
    const secrets = [
      AGENT_TASK_ROLE.secretAccessKey,
      AGENT_TASK_ROLE.sessionToken!,
      'k8s-aws-v1.',
      'PRIVATE KEY',
      ...[dev, staging, noEntry].flatMap((cluster) => cluster.tokens.map((t) => t.token.slice(11, 60))),
    ];
    for (const secret of secrets) expect(log).not.toContain(secret);
  });
});
