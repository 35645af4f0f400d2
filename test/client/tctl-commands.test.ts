// tctl's commands in this process against the real auth and admin handlers over HTTP.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as create } from '../../lib/client/commands/tctl-create.js';
import { run as get } from '../../lib/client/commands/tctl-get.js';
import { run as rm } from '../../lib/client/commands/tctl-rm.js';
import { run as statusCommand } from '../../lib/client/commands/tctl-status.js';
import { run as usersAdd } from '../../lib/client/commands/tctl-users-add.js';
import { run as usersLs } from '../../lib/client/commands/tctl-users-ls.js';
import { run as usersRm } from '../../lib/client/commands/tctl-users-rm.js';
import { tctlConfig } from '../../lib/client/tctl-config.js';
import { type ClientHarness, startClientHarness, tctlRun } from './client-harness.js';

describe('tctl commands', () => {
  let harness: ClientHarness;
  let dir: string;
  beforeAll(async () => {
    harness = await startClientHarness();
    dir = mkdtempSync(join(tmpdir(), 'kubeport-tctl-'));
  });
  afterAll(() => harness?.close());

  it('users add prints the tsh login line with the invite; users ls lists; users rm removes', async () => {
    const added = tctlRun(harness);
    await usersAdd({ name: 'alice', roles: ['access'], kubernetesGroups: ['devs'], kubernetesUsers: [] }, added.deps);
    expect(added.stdout.text()).toMatch(
      new RegExp(
        `^User "alice" has been created\\. The invite is valid until \\S+ \\S+ local \\[valid for (59m\\d+s|1h)\\] and works once\\.\\nShare this command with alice:\\n\\n  npx tsh login --proxy=${harness.proxy.replace(/\./g, '\\.')} --user=alice --invite=[0-9a-f]+\\n\\n$`,
      ),
    );

    const listed = tctlRun(harness);
    await usersLs({}, listed.deps);
    expect(listed.stdout.text()).toBe('User  Roles  Connector\nalice access local\n');

    const removed = tctlRun(harness);
    await usersRm({ name: 'alice' }, removed.deps);
    expect(removed.stdout.text()).toBe('User "alice" has been deleted.\n');
  });

  it('create -f, get and rm a role; get lists the built-in roles too', async () => {
    const file = join(dir, 'role.yaml');
    writeFileSync(
      file,
      stringify({
        kind: 'role',
        version: 'v7',
        metadata: { name: 'devs' },
        spec: { allow: { kubernetes_labels: { env: 'dev' }, kubernetes_groups: ['devs'] } },
      }),
    );
    const created = tctlRun(harness);
    await create({ file, force: false }, created.deps);
    expect(created.stdout.text()).toBe('role "devs" has been created\n');

    // --force says what it did: an existing role is updated, a new one created.
    const updated = tctlRun(harness);
    await create({ file, force: true }, updated.deps);
    expect(updated.stdout.text()).toBe('role "devs" has been updated\n');
    await expect(create({ file, force: false }, tctlRun(harness).deps)).rejects.toThrow(
      'role "devs" already exists; add --force to replace it',
    );
    const other = join(dir, 'other.yaml');
    writeFileSync(other, stringify({ kind: 'role', version: 'v7', metadata: { name: 'ops' }, spec: { allow: {} } }));
    const forcedNew = tctlRun(harness);
    await create({ file: other, force: true }, forcedNew.deps);
    expect(forcedNew.stdout.text()).toBe('role "ops" has been created\n');
    await rm({ resource: 'role/ops' }, tctlRun(harness).deps);

    const listed = tctlRun(harness);
    await get({ resource: 'roles' }, listed.deps);
    expect(listed.stdout.text()).toContain('name: devs');
    expect(listed.stdout.text()).toContain('name: access');

    const removed = tctlRun(harness);
    await rm({ resource: 'role/devs' }, removed.deps);
    expect(removed.stdout.text()).toBe('role "devs" has been deleted\n');
    await expect(get({ resource: 'role/devs' }, tctlRun(harness).deps)).rejects.toThrow(/devs/);
  });

  it('create refuses a file with one bad document before sending any', async () => {
    const file = join(dir, 'two.yaml');
    writeFileSync(
      file,
      `${stringify({ kind: 'kube_cluster', metadata: { name: 'fine' } })}---\n${stringify({ kind: 'kube_cluster', metadata: { name: 'Not_A_Label' } })}`,
    );
    await expect(create({ file, force: false }, tctlRun(harness).deps)).rejects.toThrow(
      /^\S+two\.yaml has a problem; nothing was changed:\n\S+two\.yaml:7:3: document 2 \(kube_cluster "Not_A_Label"\): metadata\.name: cluster names are DNS-1123 labels$/,
    );
    const listed = tctlRun(harness);
    await get({ resource: 'kube_clusters' }, listed.deps);
    expect(listed.stdout.text()).not.toContain('fine');
    await expect(create({ file: join(dir, 'missing.yaml'), force: false }, tctlRun(harness).deps)).rejects.toThrow(
      `cannot read ${join(dir, 'missing.yaml')}: ENOENT`,
    );
    await expect(rm({ resource: 'role' }, tctlRun(harness).deps)).rejects.toThrow('write the resource as KIND/NAME, e.g. role/devs');
  });

  it('names the data directory without an admin identity, and refuses an expired or malformed one', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'kubeport-empty-'));
    await expect(usersLs({}, tctlRun(harness, { dataDir: empty }).deps)).rejects.toThrow(
      `no admin identity in ${empty}; tctl signs with --identity FILE, else --aws-iam --proxy=<API host> (break-glass, your AWS credentials), else the admin identity npm start writes into .kubeport (run tctl where npm start runs, or pass --data-dir), else your tsh login (run tsh login --proxy=<API host> first)`,
    );
    await expect(usersLs({}, tctlRun(harness, { identity: join(empty, 'id.json') }).deps)).rejects.toThrow(
      `identity file ${join(empty, 'id.json')} does not exist`,
    );
    writeFileSync(join(empty, 'id.json'), '{"proxy": 1}');
    await expect(usersLs({}, tctlRun(harness, { identity: join(empty, 'id.json') }).deps)).rejects.toThrow('is not an admin identity');
    const later = tctlRun(harness);
    harness.clock.advance(13 * 3_600_000);
    try {
      await expect(usersLs({}, later.deps)).rejects.toThrow('has expired; restart npm start');
    } finally {
      harness.clock.advance(-13 * 3_600_000);
    }
    rmSync(empty, { recursive: true });
  });

  it('status shows the cluster, its CA fingerprints, the agent and how many users and roles there are', async () => {
    await harness.addUser('stan', { roles: ['access'] });
    const status = tctlRun(harness);
    await statusCommand({}, status.deps);
    const fingerprint = (pem: string) => `SHA256:${new X509Certificate(pem).fingerprint256}`;
    const users = (await harness.deps.resources.list('user')).length;
    expect(status.stdout.text()).toBe(
      [
        'Cluster:  kubeport-test',
        'Version:  test',
        `Auth API: ${harness.proxy}`,
        'Agent:    127.0.0.1:3026 (kubectl connects here)',
        `User CA:  ${fingerprint(harness.userCa.certPem)}`,
        `Host CA:  ${fingerprint(harness.hostCa.certPem)}`,
        `Users:    ${users}`,
        'Roles:    3',
        '',
      ].join('\n'),
    );
    expect(users).toBeGreaterThan(0);
    await usersRm({ name: 'stan' }, tctlRun(harness).deps);
  });

  it('checks its global flags once, naming each bad one', () => {
    expect(() => tctlConfig({ proxy: 'http://a b', identity: ' ' })).toThrow('--identity is empty; --proxy http://a b is not HOST:PORT');
    expect(tctlConfig({}).identityPath).toBe(join(process.cwd(), '.kubeport', 'admin-identity.json'));
    expect(tctlConfig({ proxy: 'https://Kubeport.example.com/' }).proxy).toBe('kubeport.example.com:443');
  });
});
