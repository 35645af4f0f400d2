// kube_cluster sources through tctl and the admin API: eks and kubeconfig round trips, bad EKS
// names, regions and role ARNs refused by field with nothing stored, the read-only status block
// (shown by get, dropped by create), and kind kube_cluster_status, which only agents write.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { ClientError } from '../../lib/client/api-client.js';
import { run as create } from '../../lib/client/commands/tctl-create.js';
import { run as get } from '../../lib/client/commands/tctl-get.js';
import { run as rm } from '../../lib/client/commands/tctl-rm.js';
import { type ClusterHealth, KUBE_CLUSTER_STATUS_KIND } from '../../lib/core/kube-cluster-health.js';
import { STATUS_KIND_READ_ONLY } from '../../lib/core/kube-cluster-status-block.js';
import { type ClientHarness, startClientHarness, tctlRun } from './client-harness.js';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/kubeport-agent';
const prod = {
  kind: 'kube_cluster',
  version: 'v3',
  metadata: { name: 'prod', labels: { env: 'prod' } },
  spec: { source: 'eks', eks: { name: 'Prod_Cluster-1', region: 'eu-west-1', role_arn: ROLE_ARN } },
};
const lab = { kind: 'kube_cluster', version: 'v3', metadata: { name: 'lab' }, spec: { source: 'kubeconfig' } };

describe('tctl and kube_cluster sources', () => {
  let harness: ClientHarness;
  let dir: string;
  let n = 0;
  const file = (...documents: unknown[]) => {
    const path = join(dir, `f${n++}.yaml`);
    writeFileSync(path, documents.map((d) => (typeof d === 'string' ? d : stringify(d))).join('---\n'));
    return path;
  };
  const out = async (command: (deps: ReturnType<typeof tctlRun>['deps']) => Promise<void>) => {
    const run = tctlRun(harness);
    await command(run.deps);
    return run.stdout.text();
  };
  const stored = async () => (await harness.deps.resources.list('kube_cluster')).map((r) => [r.name, r.revision]);
  const health = (cluster: string, status: ClusterHealth['status']): ClusterHealth => ({
    cluster,
    status,
    ...(status === 'unhealthy'
      ? { problem: 'token_refused', reason: 'the API server refused the agent token', fix: 'add an access entry' }
      : {}),
    checked_at: harness.clock.now().toISOString(),
    agent: 'agent-a',
  });

  beforeAll(async () => {
    harness = await startClientHarness();
    dir = mkdtempSync(join(tmpdir(), 'kubeport-source-'));
  });
  afterAll(() => harness?.close());

  it('an eks source (with a role in another account) and a kubeconfig one go in and come out as written', async () => {
    expect(await out((deps) => create({ file: file(prod, lab), force: false }, deps))).toBe(
      'kube_cluster "prod" has been created\nkube_cluster "lab" has been created\n',
    );
    expect((await harness.deps.resources.get('kube_cluster', 'prod'))!.body).toEqual(prod);
    const shown = parse(await out((deps) => get({ resource: 'kube_cluster/prod' }, deps)));
    expect(shown).toEqual({ ...prod, status: expect.objectContaining({ status: 'unknown' }) });
    // An eks block alone means source eks; no block at all means kubeconfig.
    await create(
      {
        file: file({ kind: 'kube_cluster', metadata: { name: 'implied' }, spec: { eks: { name: 'x', region: 'us-east-2' } } }),
        force: false,
      },
      tctlRun(harness).deps,
    );
    expect(await out((deps) => get({ resource: 'kube_clusters', format: 'text' }, deps))).toBe(
      [
        'Kube Cluster Name Labels   Source                       Status',
        '----------------- -------- ---------------------------- -------',
        'implied                    eks us-east-2/x              unknown',
        'lab                        kubeconfig                   unknown',
        'prod              env=prod eks eu-west-1/Prod_Cluster-1 unknown',
        '',
      ].join('\n'),
    );
  });

  it('a bad EKS name, region or role ARN is refused naming the field, and nothing is stored', async () => {
    const before = await stored();
    const bad = (eks: Record<string, string>) => ({
      ...prod,
      metadata: { name: 'bad' },
      spec: { source: 'eks', eks: { ...prod.spec.eks, ...eks } },
    });
    const cases: [Record<string, string>, string][] = [
      [{ region: 'Europe' }, 'spec.eks.region: an AWS region such as eu-west-1'],
      [{ name: '-starts-with-dash' }, 'spec.eks.name: an EKS cluster name: letters, digits, - and _, a letter or digit first, at most 100'],
      [
        { role_arn: 'arn:aws:iam::1234:user/alice' },
        'spec.eks.role_arn: an IAM role ARN such as arn:aws:iam::123456789012:role/kubeport-agent',
      ],
    ];
    for (const [eks, message] of cases) {
      const path = file(bad(eks));
      await expect(create({ file: path, force: true }, tctlRun(harness).deps)).rejects.toThrow(
        new RegExp(
          `^${path} has a problem; nothing was changed:\\n${path}:\\d+:\\d+: document 1 \\(kube_cluster "bad"\\): ${message.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`,
        ),
      );
    }
    // source eks without its block, and a kubeconfig source with one.
    await expect(
      create(
        { file: file({ kind: 'kube_cluster', metadata: { name: 'bad' }, spec: { source: 'eks' } }), force: false },
        tctlRun(harness).deps,
      ),
    ).rejects.toThrow('spec.eks: source eks needs eks: {name: <EKS cluster name>, region: <AWS region>}');
    await expect(
      create(
        { file: file({ ...lab, metadata: { name: 'bad' }, spec: { source: 'kubeconfig', eks: prod.spec.eks } }), force: false },
        tctlRun(harness).deps,
      ),
    ).rejects.toThrow('spec.eks: source kubeconfig takes no eks block; remove it, or write source: eks');
    expect(await stored()).toEqual(before);
  });

  it('the status block tctl get prints is dropped when the file goes back in with create --force', async () => {
    await harness.deps.resources.put(KUBE_CLUSTER_STATUS_KIND, 'prod', health('prod', 'unhealthy'));
    const yaml = await out((deps) => get({ resource: 'kube_cluster/prod' }, deps));
    expect(parse(yaml).status).toEqual({
      status: 'unhealthy',
      reason: 'the API server refused the agent token',
      fix: 'add an access entry',
      checked_at: harness.clock.now().toISOString(),
      agent: 'agent-a',
    });
    // The table says unhealthy, and under it why and what to do.
    expect(await out((deps) => get({ resource: 'kube_cluster/prod', format: 'text' }, deps))).toBe(
      [
        'Kube Cluster Name Labels   Source                       Status',
        '----------------- -------- ---------------------------- ---------',
        'prod              env=prod eks eu-west-1/Prod_Cluster-1 unhealthy',
        '',
        'prod: the API server refused the agent token',
        '  fix: add an access entry',
        '',
      ].join('\n'),
    );
    expect(await out((deps) => create({ file: file(yaml), force: true }, deps))).toBe('kube_cluster "prod" has been updated\n');
    expect((await harness.deps.resources.get('kube_cluster', 'prod'))!.body).toEqual(prod);
    // A status written into the file, even one that claims health, changes neither the cluster nor its status.
    const claimed = { ...prod, status: { status: 'healthy', checked_at: harness.clock.now().toISOString(), agent: 'me' } };
    await create({ file: file(claimed), force: true }, tctlRun(harness).deps);
    expect((await harness.deps.resources.get('kube_cluster', 'prod'))!.body).toEqual(prod);
    expect((await harness.deps.resources.get<ClusterHealth>(KUBE_CLUSTER_STATUS_KIND, 'prod'))!.body.status).toBe('unhealthy');
  });

  it('nobody creates, replaces, reads or removes a kube_cluster_status by hand, through tctl or the admin API', async () => {
    const before = (await harness.deps.resources.get(KUBE_CLUSTER_STATUS_KIND, 'prod'))!;
    const forged = { kind: KUBE_CLUSTER_STATUS_KIND, metadata: { name: 'prod' }, ...health('prod', 'healthy') };
    const path = file(forged);
    for (const force of [false, true]) {
      await expect(create({ file: path, force }, tctlRun(harness).deps)).rejects.toThrow(
        `${path}:1:1: document 1 (kube_cluster_status "prod"): kind: ${STATUS_KIND_READ_ONLY}`,
      );
    }
    // The same straight to the API, next to a valid document: nothing of the batch is written.
    const admin = await tctlRun(harness).deps.admin();
    const refused = await admin
      .call('POST', '/webapi/admin/resources', {
        documents: [{ kind: 'kube_cluster', metadata: { name: 'sneaky' } }, forged],
        overwrite: true,
      })
      .catch((error: ClientError) => error);
    expect(refused).toMatchObject({ status: 400, message: expect.stringContaining(STATUS_KIND_READ_ONLY) });
    expect(await harness.deps.resources.get('kube_cluster', 'sneaky')).toBeUndefined();
    for (const [method, path] of [
      ['GET', '/webapi/admin/resources/kube_cluster_status'],
      ['GET', '/webapi/admin/resources/kube_cluster_status/prod'],
      ['DELETE', '/webapi/admin/resources/kube_cluster_status/prod'],
    ] as const) {
      await expect(admin.call(method, path)).rejects.toMatchObject({ status: 400, message: STATUS_KIND_READ_ONLY });
    }
    await expect(get({ resource: 'kube_cluster_statuses' }, tctlRun(harness).deps)).rejects.toThrow(STATUS_KIND_READ_ONLY);
    await expect(rm({ resource: 'kube_cluster_status/prod' }, tctlRun(harness).deps)).rejects.toThrow(STATUS_KIND_READ_ONLY);
    expect((await harness.deps.resources.get(KUBE_CLUSTER_STATUS_KIND, 'prod'))!.revision).toBe(before.revision);
  });

  it('tctl rm kube_cluster/NAME takes its status along; a new cluster of the name starts unknown', async () => {
    await harness.deps.resources.put(KUBE_CLUSTER_STATUS_KIND, 'lab', health('lab', 'healthy'));
    expect(await out((deps) => rm({ resource: 'kube_cluster/lab' }, deps))).toBe('kube_cluster "lab" has been deleted\n');
    expect(await harness.deps.resources.get(KUBE_CLUSTER_STATUS_KIND, 'lab')).toBeUndefined();
    await create({ file: file(lab), force: false }, tctlRun(harness).deps);
    expect(parse(await out((deps) => get({ resource: 'kube_cluster/lab' }, deps))).status.status).toBe('unknown');
  });
});
