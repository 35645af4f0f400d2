// Every plain kubectl verb, the long-lived streams, kubectl proxy and kubectl cp, with the real
// kubectl through the real agent to the Kubernetes API stand-in: writes of every kind (create,
// client-side and server-side apply, the three patch types, replace, delete, dry runs), what the
// stand-in received (bodies and content types as kubectl sent them), paged large lists, watches
// that see another kubectl's changes as they happen, and a 10 MB binary file copied both ways.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, startAgentHarness } from '../support/agent-harness.js';
import { kubectlUser } from '../support/agent-kubeconfig.js';
import { collectOutput, run, waitForOutput } from '../support/cli.js';
import { headerValues, type RecordedRequest } from '../../lib/demo/kube-apiserver.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const BULK = 3000;

describe('kubectl verbs, streams, proxy and cp through the agent', () => {
  let h: AgentHarness;
  let dir: string;
  /** kubectl as alice (group devs: the stand-in's RBAC lets her act in default only). */
  let kubectl: (...args: string[]) => ReturnType<typeof run>;
  /** kubectl as a cluster admin (system:masters), also through the agent. */
  let admin: (...args: string[]) => ReturnType<typeof run>;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];
  const spawnKubectl = (...args: string[]) => {
    const child = spawn('kubectl', args, { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    return child;
  };
  /** The stand-in's record of requests to `path` (no query) with `method`, since `from`. */
  const received = (from: number, method: string, path: string): RecordedRequest[] =>
    h.kube.requests.slice(from).filter((r) => r.method === method && r.path.split('?')[0] === path);

  beforeAll(async () => {
    h = await startAgentHarness({
      kube: {
        namespaces: ['default', 'kube-system', 'bulk'],
        rbac: { 'system:masters': ['*'], devs: ['default'] },
        // Streams long enough for a second kubectl to change something while one watches.
        streams: { intervalMs: 300, durationMs: 30_000 },
        configMaps: {
          bulk: Array.from({ length: BULK }, (_, i) => ({ name: `item-${String(i).padStart(4, '0')}`, data: { i: String(i) } })),
        },
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'kubeport-kubectl-verbs-'));
    const alice = kubectlUser(
      h,
      join(dir, 'alice'),
      'alice',
      await h.issue({ username: 'alice', traits: { kubernetes_groups: ['devs'] } }),
    );
    const root = kubectlUser(
      h,
      join(dir, 'root'),
      'root',
      await h.issue({ username: 'root', traits: { kubernetes_groups: ['system:masters'] } }),
    );
    env = alice.env;
    kubectl = (...args) => alice.kubectl(args, { cwd: dir });
    admin = (...args) => root.kubectl(args, { cwd: dir });
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });
  afterAll(() => h?.close());

  it(
    'create, get, apply (client-side, then server-side), patch of each type, replace and delete a ConfigMap',
    { timeout: 90_000 },
    async () => {
      const created = await kubectl('create', 'configmap', 'app', '--from-literal=color=blue', '--from-literal=size=3');
      expect(created.stderr).toBe('');
      expect(created.stdout).toBe('configmap/app created\n');
      expect((await kubectl('create', 'configmap', 'app', '--from-literal=a=1')).stderr).toBe(
        'error: failed to create configmap: configmaps "app" already exists\n',
      );
      expect((await kubectl('get', 'configmap', 'app', '-o', 'jsonpath={.data}')).stdout).toBe('{"color":"blue","size":"3"}');
      expect((await kubectl('get', 'cm')).stdout).toMatch(/^NAME\s+DATA\s+AGE\napp\s+2\s+\d+s\nkube-root-ca.crt\s+1\s+/);

      const from = h.kube.requests.length;
      const cmPath = '/api/v1/namespaces/default/configmaps/app';
      expect((await kubectl('patch', 'cm', 'app', '--type=merge', '-p', '{"data":{"shape":"round"}}')).stdout).toBe(
        'configmap/app patched\n',
      );
      expect((await kubectl('patch', 'cm', 'app', '--type=json', '-p', '[{"op":"replace","path":"/data/size","value":"4"}]')).stdout).toBe(
        'configmap/app patched\n',
      );
      expect((await kubectl('patch', 'cm', 'app', '--type=strategic', '-p', '{"data":{"color":"red"}}')).stdout).toBe(
        'configmap/app patched\n',
      );
      const failedTest = await kubectl('patch', 'cm', 'app', '--type=json', '-p', '[{"op":"test","path":"/data/size","value":"9"}]');
      expect(failedTest.code).toBe(1);
      expect(failedTest.stderr).toBe('The request is invalid: testing value /data/size failed: test failed\n');
      // The agent passed each patch on as kubectl sent it: content type and body unchanged.
      const patches = received(from, 'PATCH', cmPath).map((r) => [headerValues(r, 'content-type')[0], r.body?.toString()]);
      expect(patches).toEqual([
        ['application/merge-patch+json', '{"data":{"shape":"round"}}'],
        ['application/json-patch+json', '[{"op":"replace","path":"/data/size","value":"4"}]'],
        ['application/strategic-merge-patch+json', '{"data":{"color":"red"}}'],
        ['application/json-patch+json', '[{"op":"test","path":"/data/size","value":"9"}]'],
      ]);
      expect((await kubectl('get', 'cm', 'app', '-o', 'jsonpath={.data}')).stdout).toBe('{"color":"red","shape":"round","size":"4"}');

      // Client-side apply: GET, then create; later GET, then a strategic merge patch from the last-applied annotation.
      const manifest = join(dir, 'web.yaml');
      writeFileSync(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  color: blue\n  size: "3"\n');
      expect((await kubectl('apply', '-f', manifest)).stdout).toBe('configmap/web created\n');
      writeFileSync(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  color: green\n');
      const applyFrom = h.kube.requests.length;
      const configured = await kubectl('apply', '-f', manifest);
      expect(configured.stderr).toBe('');
      expect(configured.stdout).toBe('configmap/web configured\n');
      const [applyPatch] = received(applyFrom, 'PATCH', '/api/v1/namespaces/default/configmaps/web');
      expect(headerValues(applyPatch!, 'content-type')).toEqual(['application/strategic-merge-patch+json']);
      expect(JSON.parse(applyPatch!.body!.toString())).toMatchObject({ data: { color: 'green', size: null } });
      expect((await kubectl('get', 'cm', 'web', '-o', 'jsonpath={.data}')).stdout).toBe('{"color":"green"}');

      // Server-side apply takes over from client-side apply without conflicts, then owns the fields.
      writeFileSync(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  color: yellow\n');
      const ssaFrom = h.kube.requests.length;
      const ssa = await kubectl('apply', '--server-side', '-f', manifest);
      expect(ssa.stderr).toBe('');
      expect(ssa.stdout).toBe('configmap/web serverside-applied\n');
      const [ssaPatch] = received(ssaFrom, 'PATCH', '/api/v1/namespaces/default/configmaps/web');
      expect(headerValues(ssaPatch!, 'content-type')).toEqual(['application/apply-patch+yaml']);
      expect(ssaPatch!.path).toMatch(/[?&]fieldManager=kubectl(&|$)/);
      expect(JSON.parse(ssaPatch!.body!.toString())).toMatchObject({ kind: 'ConfigMap', data: { color: 'yellow' } });
      // A field another manager changed since conflicts, until --force-conflicts.
      await kubectl('patch', 'cm', 'web', '--type=merge', '-p', '{"data":{"color":"purple"}}');
      const conflict = await kubectl('apply', '--server-side', '-f', manifest);
      expect(conflict.code).toBe(1);
      expect(conflict.stderr).toMatch(/^error: Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.color\n/);
      expect((await kubectl('apply', '--server-side', '--force-conflicts', '-f', manifest)).code).toBe(0);
      // Server-side apply creates what is missing.
      writeFileSync(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fresh\ndata:\n  k: v\n');
      expect((await kubectl('apply', '--server-side', '-f', manifest)).stdout).toBe('configmap/fresh serverside-applied\n');
      expect((await kubectl('get', 'cm', 'fresh', '-o', 'jsonpath={.data.k}')).stdout).toBe('v');

      // replace (PUT) with a stale resourceVersion is a conflict; a dry run changes nothing.
      const current = JSON.parse((await kubectl('get', 'cm', 'app', '-o', 'json')).stdout) as { metadata: { resourceVersion: string } };
      await kubectl('label', 'cm', 'app', 'tier=web');
      writeFileSync(join(dir, 'stale.json'), JSON.stringify({ ...current, data: { stale: 'yes' } }));
      const stale = await kubectl('replace', '-f', join(dir, 'stale.json'));
      expect(stale.code).toBe(1);
      expect(stale.stderr).toContain(
        'Operation cannot be fulfilled on configmaps "app": the object has been modified; please apply your changes to the latest version and try again',
      );
      expect((await kubectl('delete', 'cm', 'app', '--dry-run=server')).stdout).toBe('configmap "app" deleted (server dry run)\n');
      expect((await kubectl('get', 'cm', '-l', 'tier=web', '-o', 'name')).stdout).toBe('configmap/app\n');
      expect((await kubectl('delete', 'cm', 'app')).stdout).toBe('configmap "app" deleted\n');
      const gone = await kubectl('get', 'cm', 'app');
      expect(gone.stderr).toBe('Error from server (NotFound): configmaps "app" not found\n');

      // The stand-in's own RBAC still decides: devs may write in default only.
      const elsewhere = await kubectl('create', 'configmap', 'x', '-n', 'kube-system', '--from-literal=a=1');
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.stderr).toContain(
        'configmaps is forbidden: User "alice" cannot create resource "configmaps" in API group "" in the namespace "kube-system"',
      );
      expect((await admin('create', 'configmap', 'x', '-n', 'kube-system', '--from-literal=a=1')).stdout).toBe('configmap/x created\n');
    },
  );

  it('auth can-i, auth whoami, api-resources and kubectl proxy', async () => {
    expect((await kubectl('auth', 'can-i', 'patch', 'configmaps')).stdout).toBe('yes\n');
    const canI = await kubectl('auth', 'can-i', 'create', 'configmaps', '-n', 'kube-system');
    expect(canI.stdout).toBe('no\n');
    expect((await kubectl('auth', 'whoami')).stdout).toMatch(/Username\s+alice\n/);
    const resources = await kubectl('api-resources', '-o', 'wide');
    expect(resources.stderr).toBe('');
    expect(resources.stdout).toMatch(/\nconfigmaps\s+cm\s+v1\s+true\s+ConfigMap\s+create,delete,get,list,patch,update,watch\s*\n/);
    expect(resources.stdout).toMatch(/\nsecrets\s+v1\s+true\s+Secret\s+create,delete,get,list,patch,update,watch\s*\n/);

    // kubectl proxy keeps the server's path (/k8s/dev) only with --append-server-path; the agent says so.
    const plain = spawnKubectl('proxy', '--port=0');
    const plainPort = /127\.0\.0\.1:(\d+)/.exec(await waitForOutput(plain, /Starting to serve on 127\.0\.0\.1:(\d+)/))![1];
    const unrouted = await fetch(`http://127.0.0.1:${plainPort}/api/v1/namespaces/default/configmaps`);
    expect(unrouted.status).toBe(400);
    expect(((await unrouted.json()) as { message: string }).message).toContain('run kubectl proxy with --append-server-path');

    const proxy = spawnKubectl('proxy', '--port=0', '--append-server-path');
    const started = await waitForOutput(proxy, /Starting to serve on 127\.0\.0\.1:(\d+)/);
    const port = /127\.0\.0\.1:(\d+)/.exec(started)![1];
    const viaProxy = await fetch(`http://127.0.0.1:${port}/api/v1/namespaces/default/configmaps/kube-root-ca.crt`);
    expect(viaProxy.status).toBe(200);
    expect(((await viaProxy.json()) as { data: Record<string, string> }).data['ca.crt']).toContain('BEGIN CERTIFICATE');
    const created = await fetch(`http://127.0.0.1:${port}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'by-proxy' }, data: { a: '1' } }),
    });
    expect(created.status).toBe(201);
    const refused = await fetch(`http://127.0.0.1:${port}/api/v1/namespaces/kube-system/configmaps`);
    expect(refused.status).toBe(403);
    expect((await kubectl('get', 'cm', 'by-proxy', '-o', 'jsonpath={.data.a}')).stdout).toBe('1');
  });

  it('lists thousands of objects in pages of 500, as a Table and as a plain list', async () => {
    const from = h.kube.requests.length;
    const table = await admin('get', 'configmaps', '-n', 'bulk');
    expect(table.stderr).toBe('');
    const rows = table.stdout.trim().split('\n');
    expect(rows).toHaveLength(BULK + 2); // header, kube-root-ca.crt and the items
    expect(rows[1]).toMatch(/^item-0000\s+1\s+/);
    expect(rows.at(-1)).toMatch(/^kube-root-ca.crt\s+1\s+/);
    const pages = received(from, 'GET', '/api/v1/namespaces/bulk/configmaps');
    expect(pages).toHaveLength(Math.ceil((BULK + 1) / 500));
    expect(pages.every((r) => /[?&]limit=500(&|$)/.test(r.path))).toBe(true);
    expect(pages.slice(1).every((r) => /[?&]continue=/.test(r.path))).toBe(true);

    const names = await admin('get', 'configmaps', '-A', '--chunk-size=1000', '-o', 'name');
    expect(
      names.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('configmap/item-')),
    ).toHaveLength(BULK);
    // alice's RBAC covers default only: the cluster-wide list is the stand-in's 403.
    expect((await kubectl('get', 'configmaps', '-A')).stderr).toContain(
      'cannot list resource "configmaps" in API group "" at the cluster scope',
    );
  });

  it('get -w shows the changes another kubectl makes, as they happen', async () => {
    const watch = collectOutput(spawnKubectl('get', 'configmaps', '-w', '--output-watch-events'));
    await watch.waitFor(/kube-root-ca\.crt/, 10_000);
    await kubectl('create', 'configmap', 'watched', '--from-literal=a=1');
    await watch.waitFor(/ADDED\s+watched\s+1\s/, 5_000);
    await kubectl('patch', 'configmap', 'watched', '--type=merge', '-p', '{"data":{"b":"2"}}');
    await watch.waitFor(/MODIFIED\s+watched\s+2\s/, 5_000);
    await kubectl('delete', 'configmap', 'watched');
    await watch.waitFor(/DELETED\s+watched\s+2\s/, 5_000);
  });

  it('logs -f and events -w print lines as they arrive, not when the stream ends', async () => {
    for (const args of [
      ['logs', '-f', 'web-0'],
      ['get', 'events', '-w'],
      ['events', '-w'],
    ]) {
      const child = spawnKubectl(...args);
      const output = collectOutput(child);
      // Three news at 300 ms intervals, long before the stand-in's 30 s stream ends.
      const news =
        args[0] === 'logs'
          ? /log line 1\n[^]*log line 2\n[^]*log line 3\n/
          : /(Unhealthy|Pulled|Ready)[^]*(Unhealthy|Pulled|Ready)[^]*(Unhealthy|Pulled|Ready)/;
      await output.waitFor(news, 10_000);
      expect(child.exitCode, output.text()).toBe(null);
      child.kill('SIGKILL');
    }
  });

  // kubectl cp runs tar in the pod over exec: WebSocket by default, SPDY/3.1 as kubectl's fallback.
  for (const [transport, websockets] of [
    ['WebSocket', 'true'],
    ['SPDY', 'false'],
  ] as const) {
    it(`kubectl cp copies a 10 MB binary file into a pod and back over ${transport}, checksums equal`, async () => {
      const original = randomBytes(10 << 20);
      const local = join(dir, `big-${transport}.bin`);
      writeFileSync(local, original);
      const cp = (...args: string[]) =>
        run('kubectl', ['cp', ...args], { env: { ...env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: websockets }, cwd: dir });
      const into = await cp(local, `default/web-1:/tmp/${transport}.bin`);
      expect(into.stderr).toBe('');
      expect(into.code).toBe(0);
      const inPod = await kubectl('exec', 'web-1', '--', 'sha256sum', `/tmp/${transport}.bin`);
      expect(inPod.stdout).toBe(`${sha256(original)}  /tmp/${transport}.bin\n`);
      const out = await cp(`default/web-1:/tmp/${transport}.bin`, join(dir, `back-${transport}.bin`));
      expect(out.code).toBe(0);
      expect(sha256(readFileSync(join(dir, `back-${transport}.bin`)))).toBe(sha256(original));
    });
  }
});
