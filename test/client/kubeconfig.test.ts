import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { clusterSlug, readKubeconfig } from '../../lib/adapters/local/kubeconfig-source.js';
import { addEntries, removeEntries, withKubeconfig } from '../../lib/client/kubeconfig-editor.js';
import { checkIssuedCertificate, newKeyPair, type Ping } from '../../lib/client/login.js';
import { normalizeProxy, safePathPart } from '../../lib/client/tsh-config.js';
import { parseClusterLabels, readClusterLabelsFile } from '../../bin/local-config.js';
import { issueUserCertificate } from '../../lib/core/certificate-authority.js';
import { newCa } from '../support/agent-harness.js';

const dir = () => mkdtempSync(join(tmpdir(), 'kubeport-kc-'));
const entry = (name: string, profile = '127.0.0.1:3080') => ({
  name,
  server: `https://127.0.0.1:3026/k8s/${name}`,
  caPem: 'CA',
  profile,
  exec: { command: '/usr/bin/node', args: ['/x/cli/tsh.mjs', 'kube', 'credentials'], env: [] },
});

describe('kubeconfig sources for npm start', () => {
  it('slugs context names into DNS labels', () => {
    expect(clusterSlug('arn:aws:eks:eu-west-1:111122223333:cluster/Prod_Payments')).toBe('prod-payments');
    expect(clusterSlug('kind-dev')).toBe('kind-dev');
    expect(clusterSlug('___')).toBe('cluster');
    expect(clusterSlug('x'.repeat(80))).toHaveLength(63);
  });

  it("never registers Kubeport's own entries, and says why it skips a context", async () => {
    const path = join(dir(), 'config');
    const config = {
      clusters: [
        { name: 'real', cluster: { server: 'https://10.0.0.1:6443' } },
        { name: 'via-agent', cluster: { server: 'https://127.0.0.1:3026/k8s/real' } },
        { name: 'plain', cluster: { server: 'http://10.0.0.2' } },
      ],
      users: [
        { name: 'u', user: { token: 't' } },
        { name: 'eks', user: { exec: { command: 'aws' } } },
      ],
      contexts: [
        { name: 'real', context: { cluster: 'real', user: 'u' } },
        { name: 'via-agent', context: { cluster: 'via-agent', user: 'u' } },
        { name: 'plain', context: { cluster: 'plain', user: 'u' } },
        { name: 'eks', context: { cluster: 'real', user: 'eks' } },
      ],
    };
    writeFileSync(path, stringify(config));
    await withKubeconfig(path, (c) => addEntries(c, [entry('marked')]));
    const read = readKubeconfig(path, ['127.0.0.1:3026']);
    expect(read.clusters.map((c) => c.name)).toEqual(['real']);
    expect(read.clusters[0]!.token).toBe('t');
    expect(Object.fromEntries(read.skipped.map((s) => [s.context, s.reason]))).toEqual({
      'via-agent': 'it is a Kubeport entry',
      plain: 'its server http://10.0.0.2 is not an https URL',
      eks: 'its user authenticates with an exec plugin or auth provider, which local mode does not run',
      marked: 'it is a Kubeport entry',
    });
  });

  it('reads cluster labels from flags and from a YAML file, naming what is wrong', () => {
    expect(parseClusterLabels(['prod:env=prod,team=payments', 'dev:env=dev'])).toEqual({
      prod: { env: 'prod', team: 'payments' },
      dev: { env: 'dev' },
    });
    expect(() => parseClusterLabels(['prod'])).toThrow('must look like CLUSTER:KEY=VALUE');
    expect(() => parseClusterLabels(['prod:env'])).toThrow('"env" is not KEY=VALUE');
    const file = join(dir(), 'labels.yaml');
    writeFileSync(file, 'prod:\n  env: prod\n  tier: 1\n');
    expect(readClusterLabelsFile(file)).toEqual({ prod: { env: 'prod', tier: '1' } });
    writeFileSync(file, 'prod: [env]\n');
    expect(() => readClusterLabelsFile(file)).toThrow(/must map each cluster name to KEY: VALUE labels/);
    writeFileSync(file, 'prod: {env: prod\n');
    expect(() => readClusterLabelsFile(file)).toThrow(/--cluster-labels-file/);
  });
});

describe('tsh kubeconfig editing', () => {
  it("adds and removes only its own profile's entries", async () => {
    const path = join(dir(), 'config');
    writeFileSync(
      path,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'mine', cluster: { server: 'https://x' } }],
        contexts: [{ name: 'mine', context: { cluster: 'mine' } }],
        users: [],
        'current-context': 'mine',
      }),
    );
    await withKubeconfig(path, (c) => addEntries(c, [entry('dev'), entry('other-proxy', 'example.com:443')]));
    const removed = await withKubeconfig(path, (c) => removeEntries(c, '127.0.0.1:3080'));
    expect(removed).toEqual(['dev']);
    const after = parse(readFileSync(path, 'utf8'));
    expect(after.contexts.map((c: { name: string }) => c.name)).toEqual(['mine', 'other-proxy']);
    expect(after['current-context']).toBe('mine');
  });

  it('keeps comments and other keys, and writes through a symlink', async () => {
    const { symlinkSync, lstatSync } = await import('node:fs');
    const base = dir();
    const real = join(base, 'real-config');
    writeFileSync(
      real,
      '# my clusters, do not lose this comment\napiVersion: v1\nkind: Config\npreferences: {colors: true}\ncontexts:\n  # the work cluster\n  - name: work\n    context: {cluster: work}\n',
    );
    const link = join(base, 'config');
    symlinkSync(real, link);
    await withKubeconfig(link, (c) => addEntries(c, [entry('dev')]));
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    const text = readFileSync(real, 'utf8');
    expect(text).toContain('# my clusters, do not lose this comment');
    expect(parse(text).preferences).toEqual({ colors: true });
    expect(parse(text).contexts.map((c: { name: string }) => c.name)).toEqual(['work', 'dev']);
    expect(text).toContain('# the work cluster');
  });

  it('does not write through a symlink planted at a temp name beside the kubeconfig', async () => {
    const { symlinkSync } = await import('node:fs');
    const base = dir();
    const path = join(base, 'config');
    const victim = join(base, 'victim');
    writeFileSync(victim, 'precious\n');
    // The name the previous code wrote its temp file at, predictable from tsh's pid.
    symlinkSync(victim, `${path}.${process.pid}.tmp`);
    await withKubeconfig(path, (c) => addEntries(c, [entry('dev')]));
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(parse(readFileSync(path, 'utf8')).contexts.map((c: { name: string }) => c.name)).toEqual(['dev']);
  });

  it('refuses to edit a kubeconfig that is not valid YAML, and leaves it as it was', async () => {
    const path = join(dir(), 'config');
    writeFileSync(path, 'clusters: [\n');
    await expect(withKubeconfig(path, (c) => addEntries(c, [entry('dev')]))).rejects.toThrow(/is not valid YAML/);
    expect(readFileSync(path, 'utf8')).toBe('clusters: [\n');
  });
});

describe('tsh checks the certificate it receives', () => {
  it('refuses a certificate for another key or from a CA that ping did not announce', async () => {
    const clock = { now: () => new Date() };
    const ca = await newCa('Kubeport user CA', clock);
    const other = await newCa('Kubeport user CA', clock);
    const keys = newKeyPair();
    const identity = { username: 'alice', roles: ['access'], traits: {}, connector: 'local', accessRequests: [], issuedAt: '' };
    const ping = { ca: { user: [ca.certPem], host: [] } } as unknown as Ping;
    const good = await issueUserCertificate(ca, new Uint8Array(keys.publicKeyDer), identity, 3_600_000);
    expect(checkIssuedCertificate(good, keys, ping).subject).toContain('CN=alice');
    const otherKey = await issueUserCertificate(ca, new Uint8Array(newKeyPair().publicKeyDer), identity, 3_600_000);
    expect(() => checkIssuedCertificate(otherKey, keys, ping)).toThrow('certificate for another key');
    const foreign = await issueUserCertificate(other, new Uint8Array(keys.publicKeyDer), identity, 3_600_000);
    expect(() => checkIssuedCertificate(foreign, keys, ping)).toThrow('not signed by the user CA it announced');
  });
});

describe('tsh names', () => {
  it.each([
    ['127.0.0.1:3080', '127.0.0.1:3080'],
    ['http://127.0.0.1:3080/', '127.0.0.1:3080'],
    ['localhost', 'localhost:3080'],
    ['https://Kubeport.Example.com', 'kubeport.example.com:443'],
  ])('normalizes --proxy %s to %s', (input, expected) => {
    expect(normalizeProxy(input)).toBe(expected);
  });
  it('refuses proxy addresses with paths and names that could leave the profile folder', () => {
    expect(() => normalizeProxy('https://x.example/k8s')).toThrow('is not HOST:PORT');
    expect(() => safePathPart('../../etc', 'the cluster name')).toThrow('not a safe name');
    expect(() => safePathPart('..', 'the user name')).toThrow('not a safe name');
    expect(safePathPart('alice@example.com', 'the user name')).toBe('alice@example.com');
  });
});
