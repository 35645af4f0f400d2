// What users see of cluster health: tsh kube ls (table with reasons and fixes below it, JSON,
// YAML), the one-line warning of tsh login and tsh kube login for an unhealthy cluster, statuses
// going stale on the harness's clock, and GET /webapi/kube/clusters never telling a user about a
// cluster their roles do not show them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ApiClient } from '../../lib/client/api-client.js';
import { run as kubeLogin } from '../../lib/client/commands/kube-login.js';
import { run as kubeLs } from '../../lib/client/commands/kube-ls.js';
import { run as create } from '../../lib/client/commands/tctl-create.js';
import { run as get } from '../../lib/client/commands/tctl-get.js';
import { run as login } from '../../lib/client/commands/tsh-login.js';
import { type ClusterHealth, KUBE_CLUSTER_STATUS_KIND, STALE_AFTER_MS } from '../../lib/core/kube-cluster-health.js';
import { apiAudience } from '../../lib/core/signed-request.js';
import { codeFor, secretFromOtpauth } from '../support/cli.js';
import { type ClientHarness, loggedInHome, startClientHarness, tctlRun, tshRun } from './client-harness.js';

const REASON = 'the agent may not impersonate users, groups or service accounts in prod';
const FIX = 'tctl kube bootstrap prod | kubectl apply -f -';

describe('cluster health in tsh', () => {
  let harness: ClientHarness;
  let home: string;
  const status = async (cluster: string, state: ClusterHealth['status'], ageMs = 0) => {
    const health: ClusterHealth = {
      cluster,
      status: state,
      ...(state === 'unhealthy' ? { problem: 'cannot_impersonate', reason: REASON, fix: FIX } : {}),
      checked_at: new Date(harness.clock.now().getTime() - ageMs).toISOString(),
      agent: 'agent-a',
    };
    await harness.deps.resources.put(KUBE_CLUSTER_STATUS_KIND, cluster, health);
  };
  const ls = async (format?: string) => {
    const run = tshRun(harness, home);
    await kubeLs({ ...(format ? { format } : {}) }, run.deps);
    return run.stdout.text();
  };

  beforeAll(async () => {
    harness = await startClientHarness();
    const dir = mkdtempSync(join(tmpdir(), 'kubeport-health-'));
    const file = join(dir, 'setup.yaml');
    writeFileSync(
      file,
      [
        {
          kind: 'role',
          version: 'v7',
          metadata: { name: 'dev-only' },
          spec: { allow: { kubernetes_labels: { env: 'dev' }, kubernetes_groups: ['devs'] } },
        },
        { kind: 'kube_cluster', metadata: { name: 'dev', labels: { env: 'dev' } } },
        { kind: 'kube_cluster', metadata: { name: 'prod', labels: { env: 'prod' } }, spec: { eks: { name: 'prod', region: 'eu-west-1' } } },
        { kind: 'kube_cluster', metadata: { name: 'stage', labels: { env: 'stage' } } },
        { kind: 'kube_cluster', metadata: { name: 'new', labels: { env: 'new' } } },
      ]
        .map((d) => stringify(d))
        .join('---\n'),
    );
    await create({ file, force: false }, tctlRun(harness).deps);
    await harness.addUser('alice', { roles: ['access'] });
    await harness.addUser('carol', { roles: ['dev-only'] });
    home = await loggedInHome(harness, 'alice', ['access']);
    await status('dev', 'healthy');
    await status('prod', 'unhealthy');
    // Checked long ago: its agent may be gone, so it says nothing about now.
    await status('stage', 'healthy', STALE_AFTER_MS + 1_000);
  });
  afterAll(() => harness?.close());

  it('kube ls shows each status, and under the table the reason and fix of each unhealthy cluster', async () => {
    expect(await ls()).toBe(
      [
        'Kube Cluster Name Labels    Status    Selected',
        '----------------- --------- --------- --------',
        'dev               env=dev   healthy',
        'new               env=new   unknown',
        'prod              env=prod  unhealthy',
        'stage             env=stage unknown',
        '',
        `prod: ${REASON}`,
        `  fix: ${FIX}`,
        '',
      ].join('\n'),
    );
  });

  it('kube ls --format json and yaml carry the same rows, reasons and fixes included', async () => {
    const rows = JSON.parse(await ls('json'));
    expect(parse(await ls('yaml'))).toEqual(rows);
    expect(rows).toEqual([
      { kube_cluster_name: 'dev', labels: { env: 'dev' }, selected: false, status: 'healthy' },
      {
        kube_cluster_name: 'new',
        labels: { env: 'new' },
        selected: false,
        status: 'unknown',
        reason: 'no agent has checked this cluster yet',
        fix: expect.any(String),
      },
      { kube_cluster_name: 'prod', labels: { env: 'prod' }, selected: false, status: 'unhealthy', reason: REASON, fix: FIX },
      {
        kube_cluster_name: 'stage',
        labels: { env: 'stage' },
        selected: false,
        status: 'unknown',
        reason: expect.stringMatching(/^the last check, by agent-a at .*, is too old to say$/),
        fix: expect.any(String),
      },
    ]);
    await expect(ls('xml')).rejects.toThrow('--format xml is not one of text, json, yaml');
  });

  it('a healthy status turns unknown once it is stale, on the clock the control plane keeps', async () => {
    harness.clock.advance(STALE_AFTER_MS + 1);
    try {
      const rows = JSON.parse(await ls('json')) as { kube_cluster_name: string; status: string }[];
      expect(rows.map((r) => [r.kube_cluster_name, r.status])).toEqual([
        ['dev', 'unknown'],
        ['new', 'unknown'],
        ['prod', 'unknown'],
        ['stage', 'unknown'],
      ]);
      // No unhealthy cluster now, so nothing under the table.
      expect(await ls()).not.toContain('fix:');
    } finally {
      harness.clock.advance(-(STALE_AFTER_MS + 1));
    }
  });

  it('kube login to an unhealthy cluster warns in one line and still points kubectl at it; a healthy one does not warn', async () => {
    const toProd = tshRun(harness, home);
    await kubeLogin({ cluster: 'prod' }, toProd.deps);
    expect(toProd.stdout.text()).toBe('Logged into Kubernetes cluster prod. Try: kubectl get pods\n');
    expect(toProd.stderr.text()).toBe(`warning: kubernetes cluster prod is unhealthy: ${REASON}; fix: ${FIX}\n`);
    expect(JSON.parse(await ls('json')).find((r: { selected: boolean }) => r.selected).kube_cluster_name).toBe('prod');
    const toDev = tshRun(harness, home);
    await kubeLogin({ cluster: 'dev' }, toDev.deps);
    expect(toDev.stderr.text()).toBe('');
  });

  it("a reason and fix carrying terminal escapes (quoted from a cluster's API server) reach no terminal raw", async () => {
    const hostile = 'denied\u001b]0;pwned\u0007\u009b2J\r\nfake: ok';
    await harness.deps.resources.put(KUBE_CLUSTER_STATUS_KIND, 'prod', {
      cluster: 'prod',
      status: 'unhealthy',
      problem: 'check_failed',
      reason: hostile,
      fix: `run \u001b[31mthis`,
      checked_at: harness.clock.now().toISOString(),
      agent: 'agent-a',
    } satisfies ClusterHealth);
    try {
      const login = tshRun(harness, home);
      await kubeLogin({ cluster: 'prod' }, login.deps);
      const table = tctlRun(harness);
      await get({ resource: 'kube_clusters', format: 'text' }, table.deps);
      for (const text of [await ls(), login.stderr.text(), table.stdout.text()]) {
        expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
        expect(text).toContain('denied');
        expect(text).not.toMatch(/^fake: ok/m);
      }
    } finally {
      await status('prod', 'unhealthy');
    }
  });

  it('tsh login selecting an unhealthy cluster warns the same way and succeeds', async () => {
    const invite = await harness.addUser('bob', { roles: ['access'] });
    const other = mkdtempSync(join(tmpdir(), 'kubeport-health-bob-'));
    let answered = false;
    const tsh = tshRun(harness, other, {
      answer: (stderr, stdin) => {
        const secret = secretFromOtpauth(stderr);
        if (secret && !answered && stderr.includes('6-digit code')) {
          answered = true;
          stdin.write(`${codeFor(secret, 0, harness.clock.now())}\n`);
        }
      },
    });
    tsh.stdin.write('correct horse battery staple\n');
    await login({ proxy: harness.proxy, user: 'bob', invite, kubeCluster: 'prod' }, tsh.deps);
    expect(tsh.stdout.text()).toMatch(/\nLogged into Kubernetes cluster prod\. Try: kubectl get pods\n$/);
    // After the prompts, the last line tsh writes.
    expect(tsh.stderr.text().endsWith(`warning: kubernetes cluster prod is unhealthy: ${REASON}; fix: ${FIX}\n`)).toBe(true);
    expect(tsh.stderr.text().match(/warning:/g)).toHaveLength(1);
  });

  it('GET /webapi/kube/clusters gives a user the statuses of their clusters only, and nothing of the others', async () => {
    const carol = await harness.identity({ username: 'carol', roles: ['dev-only'] });
    const api = new ApiClient(harness.proxy, apiAudience(harness.deps.clusterName), harness.clock);
    const raw = await api.call<unknown>('GET', '/webapi/kube/clusters', undefined, carol);
    expect(raw).toEqual({ clusters: [{ name: 'dev', labels: { env: 'dev' }, status: 'healthy' }] });
    // Neither prod's name nor its reason, fix or agent shows anywhere in the answer.
    expect(JSON.stringify(raw)).not.toMatch(/prod|impersonate|bootstrap|agent-a|stage/);
  });
});
