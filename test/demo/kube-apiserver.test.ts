import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import https from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { headerValues, startKubeApiServer, type KubeApiServer, type PemPair } from '../../lib/demo/kube-apiserver.js';
import { createClusterCa } from '../../lib/demo/cluster-ca.js';

const kubectlBinary = process.env.KUBECTL ?? 'kubectl';

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

let server: KubeApiServer;
let dir: string;
let agentCert: PemPair;
const kubeconfigs: Record<string, string> = {};
let cacheDirs = 0;

const freshCacheDir = () => join(dir, `cache-${cacheDirs++}`);

// By default each call gets its own discovery cache so no test depends on another having warmed it.
function kubectl(config: string, ...args: string[]): Promise<RunResult> {
  return kubectlWithCache(freshCacheDir(), config, ...args);
}

function kubectlWithCache(cacheDir: string, config: string, ...args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      kubectlBinary,
      ['--kubeconfig', kubeconfigs[config] as string, '--cache-dir', cacheDir, ...args],
      { timeout: 20_000, env: { ...process.env, KUBECACHEDIR: cacheDir } },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(err);
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
    // kubectl prompts for a username on stdin when a kubeconfig user has no credentials.
    child.stdin?.end();
  });
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function request(
  path: string,
  options: { method?: string; headers?: Record<string, string | string[]>; cert?: PemPair; body?: string; agent?: https.Agent } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      server.url + path,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        ca: server.caPem,
        cert: options.cert?.certPem,
        key: options.cert?.keyPem,
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

beforeAll(async () => {
  server = await startKubeApiServer({
    rbac: { 'kubeport-agent': ['*'], devs: ['default'] },
    tokens: { 'tok-tina': { username: 'tina', groups: ['devs'] } },
  });
  dir = await mkdtemp(join(tmpdir(), 'kube-stand-in-'));
  kubeconfigs.agent = await server.writeKubeconfig(join(dir, 'agent.yaml'));
  kubeconfigs.bob = await server.writeKubeconfig(join(dir, 'bob.yaml'), { username: 'bob' });
  kubeconfigs.badToken = await server.writeKubeconfig(join(dir, 'bad-token.yaml'), { token: 'no-such-token' });
  agentCert = await server.issueClientCert('kubeport-agent');

  // A well-formed client certificate the server does not trust.
  const stranger = await (await createClusterCa('stranger-ca')).issueClient('kubeport-agent');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  kubeconfigs.foreignCert = join(dir, 'foreign.yaml');
  await writeFile(
    kubeconfigs.foreignCert,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c, cluster: {server: "${server.url}", certificate-authority-data: ${b64(server.caPem)}}}]`,
      `users: [{name: u, user: {client-certificate-data: ${b64(stranger.certPem)}, client-key-data: ${b64(stranger.keyPem)}}}]`,
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('with kubectl', () => {
  it('lists pods as a table', async () => {
    const r = await kubectl('agent', 'get', 'pods', '-n', 'default');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    expect(r.stdout).toMatch(/^web-0\s+1\/1\s+Running\s+0\s+5m/m);
    expect(r.stdout).toMatch(/^web-1\s/m);
    const list = server.requests.find((q) => q.path === '/api/v1/namespaces/default/pods?limit=500');
    expect(headerValues(list!, 'accept')[0]).toContain('as=Table');
  });

  it('lists namespaces', async () => {
    const r = await kubectl('agent', 'get', 'ns');
    expect(r.code, r.stderr).toBe(0);
    for (const ns of ['default', 'kube-system', 'prod']) expect(r.stdout).toMatch(new RegExp(`^${ns}\\s+Active`, 'm'));
  });

  it('reports the impersonated identity in auth whoami', async () => {
    const r = await kubectl('agent', 'auth', 'whoami', '--as', 'alice', '--as-group', 'devs');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Username\s+alice$/m);
    expect(r.stdout).toMatch(/^Groups\s+\[devs system:authenticated\]$/m);
    const review = server.requests.filter((q) => q.path.endsWith('/selfsubjectreviews')).at(-1)!;
    expect(review.authenticated?.username).toBe('kubeport-agent');
    expect(headerValues(review, 'Impersonate-User')).toEqual(['alice']);
    expect(headerValues(review, 'Impersonate-Group')).toEqual(['devs']);
  });

  it('shows the agent its own certificate identity', async () => {
    const r = await kubectl('agent', 'auth', 'whoami');
    expect(r.stdout).toMatch(/^Username\s+kubeport-agent$/m);
    expect(r.stdout).toMatch(/^Extra: authentication\.kubernetes\.io\/credential-id\s+\[X509SHA256=[0-9a-f]{64}\]$/m);
  });

  it('prints the apiserver forbidden message for a namespace outside the grant', async () => {
    const r = await kubectl('agent', 'get', 'pods', '-n', 'prod', '--as', 'alice', '--as-group', 'devs');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "prod"',
    );
  });

  it('forbids impersonation by a user who is not an impersonator', async () => {
    // Discovery reads error bodies raw: a JSON 403 there comes out as "unknown".
    const cold = await kubectl('bob', 'get', 'pods', '--as', 'alice');
    expect(cold.code).toBe(1);
    expect(cold.stderr).toContain('Error from server (Forbidden): unknown');

    // With discovery cached (the key is host:port, not the user) the list request shows the Status.
    const cacheDir = freshCacheDir();
    expect((await kubectlWithCache(cacheDir, 'agent', 'get', 'pods')).code).toBe(0);
    const r = await kubectlWithCache(cacheDir, 'bob', 'get', 'pods', '--as', 'alice');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'Error from server (Forbidden): users "alice" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope',
    );
  });

  it('answers auth can-i from the grants (kubectl sends protobuf here)', async () => {
    expect(
      (await kubectl('agent', 'auth', 'can-i', 'list', 'pods', '-n', 'default', '--as', 'alice', '--as-group', 'devs')).stdout.trim(),
    ).toBe('yes');
    const no = await kubectl('agent', 'auth', 'can-i', 'list', 'pods', '-n', 'prod', '--as', 'alice', '--as-group', 'devs');
    expect(no.stdout.trim()).toBe('no');
    expect(no.code).toBe(1);
  });

  it('rejects a client certificate from another CA as Unauthorized', async () => {
    // auth whoami uses a typed client, so the Status body reaches the user as is.
    const r = await kubectl('foreignCert', 'auth', 'whoami');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: You must be logged in to the server (Unauthorized)');
  });

  it('rejects an unknown token; discovery reports it in its own words', async () => {
    // Discovery reads error bodies raw, so kubectl get never shows the Status message.
    const r = await kubectl('badToken', 'get', 'pods');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: You must be logged in to the server (the server has asked for the client to provide credentials)');
  });
});

describe('events and endless streams', () => {
  it('lists the events of the pods as kubectl get events prints them, and streams new ones with -w', async () => {
    const r = await kubectl('agent', 'get', 'events', '-n', 'default');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
    expect(r.stdout).toMatch(/^5m\d*s?\s+Normal\s+Started\s+pod\/web-0\s+Started container web$/m);
    // This server's streams end after a second, so kubectl returns by itself.
    const watch = await kubectl('agent', 'get', 'events', '-n', 'default', '-w');
    expect(watch.code, watch.stderr).toBe(0);
    expect(watch.stdout).toMatch(/^0s\s+Warning\s+Unhealthy\s+pod\/web-0\s+Readiness probe failed/m);
    // What the watch saw stays, as on a cluster.
    expect((await kubectl('agent', 'get', 'ev', '-n', 'default')).stdout).toMatch(/Unhealthy\s+pod\/web-0/);
  });

  // The demo clusters' streams: before, every watch and followed log ended after about a second.
  // Each pattern needs more than a second of news at 100 ms (12 ticks, plus the list's 2 rows).
  it.each([
    ['get pods -w', ['get', 'pods', '-n', 'default', '-w'], /(^web-\d\s+1\/1\s+Running.*\n){14}/m],
    ['get events -w', ['get', 'events', '-n', 'default', '-w'], /(^[0-9]s\s+(Warning|Normal)\s+(Unhealthy|Pulled|Ready)\s.*\n){12}/m],
    ['logs -f', ['logs', '-f', 'web-0', '-n', 'default'], /web-0 log line 11\n/],
  ])('keeps kubectl %s open, with news every interval, until the client stops', async (_name, args, enough) => {
    const endless = await startKubeApiServer({ streams: { intervalMs: 100, durationMs: Infinity } });
    try {
      const config = await endless.writeKubeconfig(join(dir, `endless-${cacheDirs}.yaml`));
      const child = spawn(kubectlBinary, ['--kubeconfig', config, '--cache-dir', freshCacheDir(), ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not enough output: ${output}`)), 15_000);
        child.stdout.on('data', () => enough.test(output) && (clearTimeout(timer), resolve()));
        void exited.then((code) => reject(new Error(`kubectl exited (${code}) by itself: ${output}`)));
      });
      expect(child.exitCode).toBeNull();
      child.kill('SIGINT');
      await exited;
    } finally {
      await endless.close();
    }
  });
});

describe('over plain https', () => {
  it('answers 401 with the apiserver Status when no credentials come', async () => {
    const r = await request('/api/v1/namespaces');
    expect(r.status).toBe(401);
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    expect(server.requests.at(-1)).toMatchObject({ authenticated: null, effective: null, status: 401 });
  });

  it('authenticates bearer tokens and serves plain lists without a Table Accept', async () => {
    const r = await request('/api/v1/namespaces/default/pods', { headers: { Authorization: 'Bearer tok-tina' } });
    expect(r.status).toBe(200);
    const list = JSON.parse(r.body) as { kind: string; items: Array<{ metadata: { name: string } }> };
    expect(list.kind).toBe('PodList');
    expect(list.items.map((p) => p.metadata.name)).toEqual(['web-0', 'web-1']);
    expect(server.requests.at(-1)?.effective).toEqual({ username: 'tina', groups: ['devs', 'system:authenticated'] });
  });

  it('applies impersonated groups, uid and extras, and records the raw headers', async () => {
    const r = await request('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      method: 'POST',
      cert: agentCert,
      headers: {
        'Content-Type': 'application/json',
        'Impersonate-User': 'alice',
        'Impersonate-Group': ['devs', 'a,b'],
        'Impersonate-Uid': 'u-1',
        'Impersonate-Extra-Foo.io%2Fscope': 'read',
      },
      body: '{"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1"}',
    });
    expect(r.status).toBe(201);
    expect((JSON.parse(r.body) as { status: unknown }).status).toEqual({
      userInfo: { username: 'alice', uid: 'u-1', groups: ['devs', 'a,b', 'system:authenticated'], extra: { 'foo.io/scope': ['read'] } },
    });
    const recorded = server.requests.at(-1)!;
    expect(headerValues(recorded, 'impersonate-group')).toEqual(['devs', 'a,b']);
    expect(recorded.authenticated?.username).toBe('kubeport-agent');
  });

  it('answers groups without a user with the 500 text the apiserver sends', async () => {
    const r = await request('/api/v1/namespaces', { cert: agentCert, headers: { 'Impersonate-Group': 'devs' } });
    expect(r.status).toBe(500);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.body).toBe('Internal Server Error: "/api/v1/namespaces": requested [{Group  devs    }] without impersonating a user\n');
  });

  it('negotiates aggregated or legacy discovery from Accept', async () => {
    const aggregated = await request('/apis', {
      cert: agentCert,
      headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' },
    });
    expect(aggregated.headers['content-type']).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const groups = (JSON.parse(aggregated.body) as { items: Array<{ metadata: { name: string } }> }).items.map((i) => i.metadata.name);
    expect(groups).toContain('authentication.k8s.io');

    const legacy = await request('/api', { cert: agentCert, headers: { Accept: 'application/json' } });
    expect(legacy.headers['content-type']).toBe('application/json');
    expect(JSON.parse(legacy.body)).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const core = JSON.parse((await request('/api/v1', { cert: agentCert })).body) as { resources: Array<{ name: string }> };
    expect(core.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['pods', 'pods/exec', 'pods/portforward', 'namespaces']));
  });

  it('impersonates service accounts with their fixed groups, and refuses non-impersonators', async () => {
    const sa = { 'Impersonate-User': 'system:serviceaccount:prod:builder' };
    const ok = await request('/apis/authentication.k8s.io/v1/selfsubjectreviews', { method: 'POST', cert: agentCert, headers: sa });
    expect((JSON.parse(ok.body) as { status: { userInfo: unknown } }).status.userInfo).toEqual({
      username: 'system:serviceaccount:prod:builder',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:prod', 'system:authenticated'],
    });
    const denied = await request('/api/v1/namespaces', { headers: { ...sa, Authorization: 'Bearer tok-tina' } });
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body)).toMatchObject({
      message:
        'serviceaccounts "builder" is forbidden: User "tina" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "prod"',
      details: { name: 'builder', kind: 'serviceaccounts' },
    });
  });

  it('answers unknown paths and objects with NotFound Status', async () => {
    const path = await request('/apis/example.com/v1/widgets', { cert: agentCert });
    expect(path.status).toBe(404);
    expect(JSON.parse(path.body)).toMatchObject({ reason: 'NotFound', message: 'the server could not find the requested resource' });
    const pod = await request('/api/v1/namespaces/default/pods/nope', { cert: agentCert });
    expect(JSON.parse(pod.body)).toMatchObject({ code: 404, message: 'pods "nope" not found', details: { name: 'nope', kind: 'pods' } });
  });

  it('pages lists with limit and continue', async () => {
    const first = JSON.parse((await request('/api/v1/namespaces?limit=2', { cert: agentCert })).body) as {
      metadata: { continue?: string };
      items: Array<{ metadata: { name: string } }>;
    };
    expect(first.items.map((n) => n.metadata.name)).toEqual(['default', 'kube-system']);
    const token = encodeURIComponent(first.metadata.continue ?? '');
    const second = JSON.parse((await request(`/api/v1/namespaces?limit=2&continue=${token}`, { cert: agentCert })).body) as typeof first;
    expect(second.items.map((n) => n.metadata.name)).toEqual(['prod']);
    expect(second.metadata.continue).toBeUndefined();
  });

  it('narrows lists and watches by fieldSelector, as the API server does, and refuses one it cannot parse', async () => {
    const names = async (query: string) => {
      const reply = await request(`/api/v1/namespaces/default/pods?${query}`, { cert: agentCert });
      expect(reply.status, reply.body).toBe(200);
      return (JSON.parse(reply.body) as { items: Array<{ metadata: { name: string } }> }).items.map((p) => p.metadata.name);
    };
    expect(await names('')).toEqual(['web-0', 'web-1']);
    expect(await names('fieldSelector=metadata.name%3Dweb-1')).toEqual(['web-1']);
    expect(await names('fieldSelector=metadata.name%3D%3Dweb-0')).toEqual(['web-0']);
    expect(await names('fieldSelector=metadata.name%21%3Dweb-0')).toEqual(['web-1']);
    expect(await names('fieldSelector=metadata.name%3Dweb-0,metadata.namespace%3Ddefault')).toEqual(['web-0']);
    expect(await names('fieldSelector=metadata.name%3Dnope')).toEqual([]);
    const bad = await request('/api/v1/namespaces/default/pods?fieldSelector=metadata.name', { cert: agentCert });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest' });
    expect(JSON.parse(bad.body).message).toContain('metadata.name');

    // kubectl's own --field-selector, on a list and on a watch (this server's streams end after a second).
    const listed = await kubectl('agent', 'get', 'pods', '-n', 'default', '--field-selector', 'metadata.name=web-1', '--no-headers');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^web-1\s/);
    expect(listed.stdout).not.toContain('web-0');
    const watched = await kubectl('agent', 'get', 'pods', '-n', 'default', '--field-selector', 'metadata.name=web-1', '-w', '--no-headers');
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout.trim().split('\n').length).toBeGreaterThan(1);
    expect(watched.stdout).not.toContain('web-0');
  });

  it('serves many requests over a few keep-alive connections and closes them on shutdown', async () => {
    const local = await startKubeApiServer();
    const cert = await local.issueClientCert('kubeport-agent');
    const agent = new https.Agent({ keepAlive: true, maxSockets: 4, ca: local.caPem, cert: cert.certPem, key: cert.keyPem });
    const sockets = new Set<object>();
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = https.get(`${local.url}/api/v1/namespaces/default/pods`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('socket', (socket) => sockets.add(socket));
        req.on('error', reject);
      });
    const statuses = await Promise.all(Array.from({ length: 200 }, get));
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(sockets.size).toBeLessThanOrEqual(4);
    expect(local.requests).toHaveLength(200);

    const started = Date.now();
    await local.close();
    expect(Date.now() - started).toBeLessThan(1000);
    agent.destroy();
  });
});
