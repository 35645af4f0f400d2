// What an admin sees from the real tctl process: the problems of a bad file on standard error,
// one per line, exit 1 and nothing changed; users update and get as printed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, node } from '../support/cli.js';
import { type ClientHarness, startClientHarness } from './client-harness.js';

describe('tctl as a process', () => {
  let harness: ClientHarness;
  let dir: string;
  const tctl = (...args: string[]) => node(cliPath('tctl'), ['--data-dir', harness.dataDir, ...args]);

  beforeAll(async () => {
    harness = await startClientHarness();
    dir = mkdtempSync(join(tmpdir(), 'kubeport-tctl-process-'));
  });
  afterAll(() => harness?.close());

  it('create: every problem of the file on its own line, exit 1, nothing changed; then the fixed file goes in', async () => {
    const file = join(dir, 'team.yaml');
    writeFileSync(
      file,
      [
        'kind: role\nversion: v7\nmetadata:\n  name: team\nspec:\n  allow:\n    kubernetes_group: [team]\n',
        'kind: user\nmetadata:\n  name: tess\nspec:\n  roles: [teem]\n',
      ].join('---\n'),
    );
    const bad = await tctl('create', '-f', file);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe(
      [
        `tctl: ${file} has 2 problems; nothing was changed:`,
        `${file}:7:5: document 1 (role "team"): spec.allow.kubernetes_group: unknown field; did you mean kubernetes_groups?`,
        `${file}:13:11: document 2 (user "tess"): spec.roles[0]: role "teem" does not exist; did you mean team? create it first or in this file (roles: access, auditor, editor, team)`,
        '',
      ].join('\n'),
    );
    expect(await harness.deps.resources.get('role', 'team')).toBeUndefined();
    expect(await harness.deps.resources.get('user', 'tess')).toBeUndefined();

    writeFileSync(
      file,
      [
        'kind: role\nversion: v7\nmetadata:\n  name: team\nspec:\n  allow:\n    kubernetes_groups: [team]\n',
        'kind: user\nmetadata:\n  name: tess\nspec:\n  roles: [team]\n',
      ].join('---\n'),
    );
    const good = await tctl('create', '-f', file);
    expect(good).toMatchObject({ code: 0, stderr: '', stdout: 'role "team" has been created\nuser "tess" has been created\n' });
    const again = await tctl('create', '-f', file);
    expect(again.stderr).toBe(
      [
        `tctl: ${file} has 2 problems; nothing was changed:`,
        `${file}:4:3: document 1 (role "team"): metadata.name: role "team" already exists; add --force to replace it`,
        `${file}:11:3: document 2 (user "tess"): metadata.name: user "tess" already exists; add --force to replace it`,
        '',
      ].join('\n'),
    );
    expect((await tctl('create', '-f', file, '--force')).stdout).toBe('role "team" has been updated\nuser "tess" has been updated\n');
  });

  it('users update and get print what changed and what is there', async () => {
    const updated = await tctl('users', 'update', 'tess', '--set-roles=access,team', '--set-kubernetes-groups=g1,g2');
    expect(updated).toMatchObject({ code: 0, stderr: '' });
    expect(updated.stdout).toContain('  Roles:             access,team\n  Kubernetes groups: g1,g2\n');
    const unknown = await tctl('users', 'update', 'tess', '--set-roles=acces');
    expect(unknown).toMatchObject({
      code: 1,
      stderr: 'tctl: role acces does not exist; did you mean access? known roles: access, auditor, editor, team\n',
    });
    const listed = await tctl('users', 'ls');
    expect(listed.stdout).toBe('User Roles       Connector\ntess access,team local\n');
    const json = await tctl('get', 'user/tess', '--format=json');
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ kind: 'user', spec: expect.objectContaining({ roles: ['access', 'team'] }) }),
    ]);
    const missing = await tctl('get', 'kube_cluster');
    expect(missing).toMatchObject({ code: 0, stdout: '' });
  });
});
