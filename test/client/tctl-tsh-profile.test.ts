// tctl after `tsh login` (the first admin on AWS logs in with GitHub and has no identity file):
// the real tctl process signs with the current tsh profile, only toward that profile's proxy,
// refuses an expired login, and leaves the data directory's admin identity first in local mode.
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_IDENTITY_FILE } from '../../lib/client/local-data-dir.js';
import { tctlConfig } from '../../lib/client/tctl-config.js';
import { cliPath, node } from '../support/cli.js';
import { type ClientHarness, loggedInHome, startClientHarness } from './client-harness.js';

describe('tctl with a tsh login', () => {
  let harness: ClientHarness;
  /** A working directory with no .kubeport in it, as on an admin's laptop after a deploy. */
  let elsewhere: string;

  /** The real tctl in `cwd`, finding tsh's profiles under `home` by the default (~/.tsh) or by TSH_HOME. */
  const tctl = (home: string, args: string[], options: { cwd?: string; tshHome?: boolean } = {}) => {
    const env = { ...process.env };
    delete env.TSH_HOME;
    delete env.TELEPORT_HOME;
    return node(cliPath('tctl'), args, {
      cwd: options.cwd ?? elsewhere,
      env: options.tshHome ? { ...env, HOME: elsewhere, TSH_HOME: join(home, '.tsh') } : { ...env, HOME: home },
    });
  };

  beforeAll(async () => {
    harness = await startClientHarness({ storedCas: true });
    elsewhere = mkdtempSync(join(tmpdir(), 'kubeport-elsewhere-'));
    await harness.addUser('erin', { roles: ['editor', 'access'] });
    await harness.addUser('ann', { roles: ['access'] });
  });
  afterAll(() => harness?.close());

  it("signs with an editor's tsh login and talks to that login's proxy, found in ~/.tsh or in TSH_HOME", async () => {
    const home = await loggedInHome(harness, 'erin', ['editor', 'access']);
    const before = harness.requests.length;
    const roles = await tctl(home, ['get', 'roles', '--format=text']);
    expect(roles).toMatchObject({ code: 0, stderr: '' });
    expect(roles.stdout).toMatch(/^editor\b/m);
    expect(harness.requests.slice(before)).toEqual(['GET /webapi/ping', expect.stringMatching(/^GET \/webapi\/admin\/resources\/role\b/)]);

    // --proxy may name the login's own proxy, however it is spelled.
    const viaTshHome = await tctl(home, [`--proxy=http://${harness.proxy}/`, 'users', 'ls'], { tshHome: true });
    expect(viaTshHome).toMatchObject({ code: 0, stderr: '' });
    expect(viaTshHome.stdout).toMatch(/^erin\s+editor,access\s+local$/m);
  });

  it("with the login of a user who holds only access, the proxy's 403 is what tctl prints", async () => {
    const home = await loggedInHome(harness, 'ann', ['access']);
    const refused = await tctl(home, ['get', 'roles']);
    expect(refused).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        'tctl: your roles (access) do not allow list on role; an admin can add a rule {resources: [role], verbs: [list]} to one of your roles\n' +
        'your roles (access) do not allow read on role; an admin can add a rule {resources: [role], verbs: [read]} to one of your roles\n',
    });
  });

  it("refuses a --proxy other than the login's without sending it anything", async () => {
    const home = await loggedInHome(harness, 'erin', ['editor', 'access'], { proxy: 'kubeport.example.com:443' });
    const before = harness.requests.length;
    const refused = await tctl(home, [`--proxy=${harness.proxy}`, 'get', 'roles']);
    expect(refused).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        `tctl: tsh is logged in to kubeport.example.com:443, not ${harness.proxy}, and tctl sends a login's signature ` +
        `only to its own proxy; run tsh login --proxy=${harness.proxy} first\n`,
    });
    expect(harness.requests.slice(before)).toEqual([]);
  });

  it('an expired tsh login says to log in again, and sends nothing', async () => {
    const now = harness.clock.now();
    harness.clock.set(new Date(now.getTime() - 2 * 3_600_000));
    const home = await loggedInHome(harness, 'erin', ['editor', 'access']).finally(() => harness.clock.set(now));
    const before = harness.requests.length;
    const expired = await tctl(home, ['get', 'roles']);
    expect(expired).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `tctl: your tsh login to ${harness.proxy} as erin has expired; run tsh login --proxy=${harness.proxy}\n`,
    });
    expect(harness.requests.slice(before)).toEqual([]);
  });

  it("the data directory's admin identity wins over a tsh login in local mode", async () => {
    // ann's login would be refused; the admin identity npm start wrote is used instead.
    const home = await loggedInHome(harness, 'ann', ['access']);
    const checkout = mkdtempSync(join(tmpdir(), 'kubeport-checkout-'));
    mkdirSync(join(checkout, '.kubeport'), { mode: 0o700 });
    copyFileSync(join(harness.dataDir, ADMIN_IDENTITY_FILE), join(checkout, '.kubeport', ADMIN_IDENTITY_FILE));
    const roles = await tctl(home, ['get', 'roles', '--format=text'], { cwd: checkout });
    expect(roles).toMatchObject({ code: 0, stderr: '' });
    expect(roles.stdout).toMatch(/^editor\b/m);
  });

  it('with no identity anywhere, names every way in the order tctl tries them; tctl --help says the same', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'kubeport-no-login-'));
    const none = await tctl(empty, ['get', 'roles']);
    expect(none).toMatchObject({
      code: 1,
      stderr:
        `tctl: no admin identity in ${join(elsewhere, '.kubeport')} and no tsh login in ${join(empty, '.tsh')}; ` +
        'tctl signs with --identity FILE, else --aws-iam --proxy=<API host> (break-glass, your AWS credentials), ' +
        'else the admin identity npm start writes into .kubeport (run tctl where npm start runs, or pass --data-dir), ' +
        'else your tsh login (run tsh login --proxy=<API host> first)\n',
    });
    const help = await tctl(empty, ['--help']);
    expect(help.stdout).toMatch(/1\. --identity FILE\n\s+2\. --aws-iam .*\n\s+3\. the admin identity .*\n\s+4\. the current tsh login/);
  });

  it("tctl status shows the CA's rotation phase and tctl auth rotate runs, signed with an editor's tsh login", async () => {
    const home = await loggedInHome(harness, 'erin', ['editor', 'access']);
    const status = await tctl(home, ['status']);
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(/^User CA:\s+\S+ \(standby\)$/m);
    const rotated = await tctl(home, ['auth', 'rotate', '--type=host', '--phase=init']);
    expect(rotated).toMatchObject({ code: 0, stderr: '' });
    expect(rotated.stdout).toMatch(/^The host CA is in phase init;/);
    expect(harness.requests).toContain('POST /webapi/ca/rotate');
  });
});

describe("tctl's configuration of the tsh login", () => {
  it('looks for the tsh login only when neither --identity, --data-dir nor --aws-iam is given, where tsh itself looks', () => {
    expect(tctlConfig({}, { TSH_HOME: '/homes/erin/.tsh' }).tshHome).toBe('/homes/erin/.tsh');
    expect(tctlConfig({}, { TELEPORT_HOME: '/homes/tp' }).tshHome).toBe('/homes/tp');
    expect(tctlConfig({ dataDir: 'x' }, { TSH_HOME: '/h' }).tshHome).toBeUndefined();
    expect(tctlConfig({ identity: 'id.json' }, { TSH_HOME: '/h' }).tshHome).toBeUndefined();
    expect(tctlConfig({ awsIam: true, proxy: 'a.execute-api.eu-west-1.amazonaws.com' }, { TSH_HOME: '/h' }).tshHome).toBeUndefined();
    expect(() => tctlConfig({}, { TSH_HOME: '' })).toThrow('TSH_HOME is set but empty; unset it or name a directory');
  });
});
