// tctl lock, get locks and rm lock/NAME as an admin uses them, in this process against the real
// API and as the real tctl process: what is printed, what is stored (created_at and created_by
// as Teleport records them), what is refused and why.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as create } from '../../lib/client/commands/tctl-create.js';
import { run as get } from '../../lib/client/commands/tctl-get.js';
import { run as lock } from '../../lib/client/commands/tctl-lock.js';
import { run as rm } from '../../lib/client/commands/tctl-rm.js';
import type { Lock } from '../../lib/core/lock.js';
import { cliPath, node } from '../support/cli.js';
import { type ClientHarness, startClientHarness, tctlRun } from './client-harness.js';

const NAME = /^Created a lock with name "([0-9a-f-]{36})"\.\n$/;

describe('tctl lock, get locks, rm lock/NAME', () => {
  let harness: ClientHarness;
  let dir: string;
  const run = async (command: (deps: ReturnType<typeof tctlRun>['deps']) => Promise<void>, flags?: Parameters<typeof tctlRun>[1]) => {
    const r = tctlRun(harness, flags);
    await command(r.deps);
    return r.stdout.text();
  };
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (error: Error) => error.message,
    );
  const stored = async () => (await harness.deps.resources.list<Lock>('lock')).map((r) => r.body);

  beforeAll(async () => {
    harness = await startClientHarness();
    dir = mkdtempSync(join(tmpdir(), 'kubeport-lock-'));
  });
  afterAll(() => harness?.close());

  it('locks a user for a while, prints the new name, and shows the lock in every format', async () => {
    const printed = await run((deps) => lock({ user: 'alice', ttl: '5m', message: 'Suspicious activity.' }, deps));
    const name = NAME.exec(printed)?.[1];
    expect(name).toBeDefined();
    const now = harness.clock.now();
    const expires = new Date(now.getTime() + 5 * 60_000).toISOString();
    const [document] = (await run((deps) => get({ resource: 'locks' }, deps))).split('---\n').map((text) => parse(text) as Lock);
    expect(document).toEqual({
      kind: 'lock',
      version: 'v2',
      metadata: { name },
      spec: {
        target: { user: 'alice' },
        message: 'Suspicious activity.',
        expires,
        created_at: now.toISOString(),
        created_by: 'kubeport-admin',
      },
    });
    expect(JSON.parse(await run((deps) => get({ resource: `lock/${name}`, format: 'json' }, deps)))).toEqual([document]);
    expect(await run((deps) => get({ resource: 'locks', format: 'text' }, deps))).toBe(
      [
        'ID                                   Target       Message              Expires                 ',
        '------------------------------------ ------------ -------------------- ------------------------',
        `${name} User:"alice" Suspicious activity. ${expires}`,
        '',
      ]
        .map((line) => line.trimEnd())
        .join('\n'),
    );
    expect(await run((deps) => rm({ resource: `lock/${name}` }, deps))).toBe(`lock "${name}" has been deleted\n`);
    expect(await stored()).toEqual([]);
  });

  it('locks a role or a login until removed, or until an RFC 3339 time', async () => {
    const until = new Date(harness.clock.now().getTime() + 3_600_000).toISOString();
    const role = NAME.exec(await run((deps) => lock({ role: 'devs', expires: until }, deps)))![1]!;
    const login = NAME.exec(await run((deps) => lock({ login: 'root' }, deps)))![1]!;
    const byName = new Map((await stored()).map((l) => [l.metadata.name, l.spec]));
    expect(byName.get(role)).toMatchObject({ target: { role: 'devs' }, expires: until });
    expect(byName.get(login)).toMatchObject({ target: { login: 'root' } });
    expect(byName.get(login)?.expires).toBeUndefined();
    await run((deps) => rm({ resource: `lock/${role}` }, deps));
    await run((deps) => rm({ resource: `lock/${login}` }, deps));
  });

  it.each<[string, Parameters<typeof lock>[0], RegExp]>([
    ['no target', { message: 'x' }, /^say whom to lock: --user=NAME, --role=NAME, --login=NAME or --access-request=ID$/],
    ['both --ttl and --expires', { user: 'a', ttl: '5m', expires: '2030-01-01T00:00:00Z' }, /^use only one of --expires and --ttl$/],
    ['a --ttl that is not a duration', { user: 'a', ttl: 'soon' }, /^--ttl=soon is not a duration; write it like 5m/],
    ['an --expires that is not RFC 3339', { user: 'a', expires: 'tomorrow' }, /^--expires=tomorrow is not an RFC 3339 time/],
  ])('refuses %s before calling the API', async (_name, options, message) => {
    expect(await refusal(run((deps) => lock(options, deps)))).toMatch(message);
  });

  it('refuses a lock that has already expired, naming the time', async () => {
    const past = new Date(harness.clock.now().getTime() - 60_000).toISOString();
    expect(await refusal(run((deps) => lock({ user: 'alice', expires: past }, deps)))).toMatch(
      /^lock "[0-9a-f-]{36}" expires at \S+, which is already past \(now \S+\); give a later spec\.expires, or --ttl$/,
    );
    expect(await stored()).toEqual([]);
  });

  it('tctl create takes a lock document; an expired lock is no longer shown and goes at the next lock', async () => {
    const file = join(dir, 'lock.yaml');
    const expires = new Date(harness.clock.now().getTime() + 60_000).toISOString();
    writeFileSync(
      file,
      `kind: lock\nversion: v2\nmetadata:\n  name: maintenance\nspec:\n  target:\n    role: access\n  message: Cluster maintenance.\n  expires: "${expires}"\n`,
    );
    await run((deps) => create({ file, force: false }, deps));
    expect((await stored()).map((l) => l.metadata.name)).toEqual(['maintenance']);
    harness.clock.advance(2 * 60_000);
    expect(await run((deps) => get({ resource: 'locks', format: 'json' }, deps))).toBe('[]\n');
    const name = NAME.exec(await run((deps) => lock({ user: 'bob' }, deps)))![1]!;
    expect((await stored()).map((l) => l.metadata.name)).toEqual([name]);
    await run((deps) => rm({ resource: `lock/${name}` }, deps));
  });

  it('refuses a target with whitespace at its ends or a control character, naming the field, and stores nothing', async () => {
    expect(await refusal(run((deps) => lock({ user: 'alice ' }, deps)))).toContain(
      'target user must not start or end with whitespace; write the exact user name',
    );
    expect(await refusal(run((deps) => lock({ role: 'dev\u0007s' }, deps)))).toContain(
      'target role must not contain control characters; write the exact role name',
    );
    expect(await refusal(run((deps) => lock({ login: '\troot' }, deps)))).toContain('target login must not start or end with whitespace');
    expect(await stored()).toEqual([]);
  });

  it('warns when no user or role of the name exists yet, and still creates the lock', async () => {
    await harness.addUser('wendy', { roles: ['access'] });
    const withStderr = async (options: Parameters<typeof lock>[0]) => {
      const r = tctlRun(harness);
      await lock(options, r.deps);
      return { name: NAME.exec(r.stdout.text())![1]!, stderr: r.stderr.text() };
    };
    const known = await withStderr({ user: 'wendy', role: 'access' });
    expect(known.stderr).toBe('');
    const unknown = await withStderr({ user: 'wendyy', role: 'acess' });
    expect(unknown.stderr).toBe(
      [
        `Warning: no user named "wendyy" exists yet; the lock applies once one does. Check the name with tctl get users, or remove the lock with tctl rm lock/${unknown.name}.`,
        `Warning: no role named "acess" exists yet; the lock applies once one does. Check the name with tctl get roles, or remove the lock with tctl rm lock/${unknown.name}.`,
        '',
      ].join('\n'),
    );
    expect((await stored()).map((l) => l.metadata.name).sort()).toEqual([known.name, unknown.name].sort());
    await run((deps) => rm({ resource: `lock/${known.name}` }, deps));
    await run((deps) => rm({ resource: `lock/${unknown.name}` }, deps));
  });

  it('refuses lock, get and rm to a caller whose roles have no rule for locks', async () => {
    await harness.addUser('ann', { roles: ['access'] });
    const ann = await harness.identity({ username: 'ann', roles: ['access'] });
    const identity = join(dir, 'ann.json');
    writeFileSync(identity, JSON.stringify({ proxy: harness.proxy, user: 'ann', cert: ann.certPem, key: ann.keyPem }), { mode: 0o600 });
    const asAnn = { identity };
    expect(await refusal(run((deps) => lock({ user: 'alice' }, deps), asAnn))).toContain(
      'your roles (access) do not allow create on lock; an admin can add a rule {resources: [lock], verbs: [create]} to one of your roles',
    );
    expect(await refusal(run((deps) => get({ resource: 'locks' }, deps), asAnn))).toContain('do not allow list on lock');
    expect(await refusal(run((deps) => rm({ resource: 'lock/x' }, deps), asAnn))).toContain('do not allow delete on lock');
    expect(await stored()).toEqual([]);
  });
});

describe('tctl lock as a process', () => {
  let harness: ClientHarness;
  const tctl = (...args: string[]) => node(cliPath('tctl'), ['--data-dir', harness.dataDir, ...args]);
  beforeAll(async () => {
    harness = await startClientHarness();
  });
  afterAll(() => harness?.close());

  it('prints the name, lists it, removes it; a lock without a target is a usage error', async () => {
    const created = await tctl('lock', '--user=alice', '--ttl=5m', '--message=Suspicious activity.');
    expect(created).toMatchObject({ code: 0 });
    const name = NAME.exec(created.stdout)?.[1];
    expect(name).toBeDefined();
    // No user alice in this cluster: locked ahead, as Teleport allows, with a warning for typos.
    expect(created.stderr).toBe(
      `Warning: no user named "alice" exists yet; the lock applies once one does. Check the name with tctl get users, or remove the lock with tctl rm lock/${name}.\n`,
    );
    const listed = await tctl('get', 'locks', '--format=text');
    expect(listed.stdout).toMatch(
      new RegExp(`^ID +Target +Message +Expires\\n[- ]+\\n${name} User:"alice" Suspicious activity\\. \\d{4}-`),
    );
    expect(await tctl('rm', `lock/${name}`)).toMatchObject({ code: 0, stdout: `lock "${name}" has been deleted\n` });
    const bad = await tctl('lock', '--message=hi');
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.stderr).toBe('tctl: say whom to lock: --user=NAME, --role=NAME, --login=NAME or --access-request=ID\n');
  });
});
