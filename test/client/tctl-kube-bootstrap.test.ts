// tctl kube bootstrap CLUSTER: the impersonator ClusterRole and binding, checked by the real
// kubectl (apply and auth reconcile, client-side dry runs) against a loopback stand-in that only
// answers discovery and "not found", so nothing needs a cluster.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { run as create } from '../../lib/client/commands/tctl-create.js';
import { run as bootstrap } from '../../lib/client/commands/tctl-kube-bootstrap.js';
import { IMPERSONATOR_CLUSTER_ROLE, IMPERSONATOR_GROUP } from '../../lib/core/eks-access.js';
import { impersonatorManifest } from '../../lib/core/impersonator-manifest.js';
import { type ClientHarness, startClientHarness, tctlRun } from './client-harness.js';

/** Discovery for rbac.authorization.k8s.io/v1 and 404 for every object: what a client-side dry run needs. */
function discoveryStandIn(): Server {
  const resource = (name: string, kind: string) => ({
    name,
    singularName: kind.toLowerCase(),
    namespaced: false,
    kind,
    verbs: ['get', 'create', 'patch'],
  });
  const rbac = 'rbac.authorization.k8s.io/v1';
  const answers: Record<string, unknown> = {
    '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] },
    '/apis': {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [
        {
          name: 'rbac.authorization.k8s.io',
          versions: [{ groupVersion: rbac, version: 'v1' }],
          preferredVersion: { groupVersion: rbac, version: 'v1' },
        },
      ],
    },
    '/api/v1': { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'v1', resources: [] },
    [`/apis/${rbac}`]: {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: rbac,
      resources: [resource('clusterroles', 'ClusterRole'), resource('clusterrolebindings', 'ClusterRoleBinding')],
    },
  };
  return createServer((request, response) => {
    const answer = answers[(request.url ?? '').split('?')[0]!];
    response.setHeader('content-type', 'application/json');
    if (answer === undefined) response.statusCode = 404;
    response.end(JSON.stringify(answer ?? { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
  });
}

function kubectl(server: string, args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), 'kubeport-kubectl-'));
  const child = spawn('kubectl', [`--server=${server}`, ...args], {
    env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: join(home, 'none') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('tctl kube bootstrap', () => {
  let harness: ClientHarness;
  let standIn: Server;
  let server: string;

  beforeAll(async () => {
    harness = await startClientHarness();
    const dir = mkdtempSync(join(tmpdir(), 'kubeport-bootstrap-'));
    const file = join(dir, 'clusters.yaml');
    writeFileSync(
      file,
      [
        { kind: 'kube_cluster', metadata: { name: 'prod' }, spec: { source: 'eks', eks: { name: 'Prod-1', region: 'eu-west-1' } } },
        { kind: 'kube_cluster', metadata: { name: 'lab' } },
      ]
        .map((d) => stringify(d))
        .join('---\n'),
    );
    await create({ file, force: false }, tctlRun(harness).deps);
    standIn = discoveryStandIn();
    await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
    server = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await harness?.close();
    await new Promise((resolve) => standIn?.close(resolve));
  });

  const printed = async (cluster: string) => {
    const run = tctlRun(harness);
    await bootstrap({ cluster }, run.deps);
    return run.stdout.text();
  };

  it('deploy/kubeport-impersonator.yaml is byte for byte what it prints after its header', async () => {
    const deployed = readFileSync(new URL('../../deploy/kubeport-impersonator.yaml', import.meta.url), 'utf8');
    expect(deployed).toBe(impersonatorManifest());
    const text = await printed('prod');
    expect(text.endsWith(deployed)).toBe(true);
    const header = text.slice(0, text.length - deployed.length);
    expect(header).toContain('kube_cluster "prod" (EKS cluster Prod-1 in eu-west-1)');
    expect(header).toContain(`access entry (type STANDARD) mapping the agent's IAM role to the Kubernetes group\n# ${IMPERSONATOR_GROUP}`);
    expect(header).toContain('aws eks update-kubeconfig --name Prod-1 --region eu-west-1');
    expect(header.split('\n').every((line) => line === '' || line.startsWith('#'))).toBe(true);
    expect(await printed('lab')).toContain('kube_cluster "lab" (the cluster its kubeconfig entry names)');
  });

  it('the ClusterRole allows impersonate on users, groups and service accounts and nothing else, bound to the access entry group', async () => {
    const documents = parseAllDocuments(await printed('prod'));
    const objects = (Array.isArray(documents) ? documents : []).map((d) => d.toJS() as Record<string, unknown>);
    expect(objects).toEqual([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: IMPERSONATOR_CLUSTER_ROLE, labels: { 'app.kubernetes.io/managed-by': 'kubeport' } },
        rules: [{ apiGroups: [''], resources: ['users', 'groups', 'serviceaccounts'], verbs: ['impersonate'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: IMPERSONATOR_CLUSTER_ROLE, labels: { 'app.kubernetes.io/managed-by': 'kubeport' } },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: IMPERSONATOR_CLUSTER_ROLE },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: IMPERSONATOR_GROUP }],
      },
    ]);
  });

  it('the real kubectl takes it as it is printed: apply and auth reconcile, client-side dry runs', async () => {
    const text = await printed('prod');
    const applied = await kubectl(server, ['apply', '--dry-run=client', '--validate=false', '-f', '-'], text);
    expect(applied).toMatchObject({ code: 0, stderr: '' });
    expect(applied.stdout).toBe(
      `clusterrole.rbac.authorization.k8s.io/${IMPERSONATOR_CLUSTER_ROLE} created (dry run)\nclusterrolebinding.rbac.authorization.k8s.io/${IMPERSONATOR_CLUSTER_ROLE} created (dry run)\n`,
    );
    // auth reconcile decodes the RBAC types strictly and says what it would grant.
    const reconciled = await kubectl(server, ['auth', 'reconcile', '--dry-run=client', '-f', '-'], text);
    expect(reconciled.code).toBe(0);
    expect(reconciled.stderr).toContain('{Verbs:[impersonate] APIGroups:[] Resources:[users groups serviceaccounts] ResourceNames:[]');
    expect(reconciled.stderr).toContain(`{Kind:Group APIGroup:rbac.authorization.k8s.io Name:${IMPERSONATOR_GROUP} Namespace:}`);
    // The check bites: a rule of the wrong shape is refused.
    const broken = await kubectl(
      server,
      ['auth', 'reconcile', '--dry-run=client', '-f', '-'],
      text.replace("verbs: ['impersonate']", 'verbs: impersonate'),
    );
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('cannot unmarshal string into Go struct field PolicyRule.rules.verbs');
  });

  it('an unknown cluster is one line naming tctl get kube_clusters, and nothing is printed', async () => {
    const run = tctlRun(harness);
    await expect(bootstrap({ cluster: 'prdo' }, run.deps)).rejects.toThrow(
      /^kube_cluster "prdo" is not registered; tctl get kube_clusters lists the clusters there are$/,
    );
    expect(run.stdout.text()).toBe('');
  });
});
