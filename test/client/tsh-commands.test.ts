// tsh's commands in this process against the real auth and admin handlers over HTTP: the real
// prompt over a pipe, the real profile store and kubeconfig in a temporary home, the harness's clock.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionsFrom, run as kubeCredentials } from '../../lib/client/commands/kube-credentials.js';
import { run as kubeLogin } from '../../lib/client/commands/kube-login.js';
import { run as kubeLs } from '../../lib/client/commands/kube-ls.js';
import { run as logout } from '../../lib/client/commands/logout.js';
import { run as create } from '../../lib/client/commands/tctl-create.js';
import { run as login } from '../../lib/client/commands/tsh-login.js';
import { run as status } from '../../lib/client/commands/tsh-status.js';
import { cliCommand } from '../../lib/client/command-hint.js';
import { codeFor, secretFromOtpauth } from '../support/cli.js';
import { type ClientHarness, startClientHarness, tctlRun, tshRun } from './client-harness.js';

const PASSWORD = 'correct horse battery staple';

describe('tsh commands', () => {
  let harness: ClientHarness;
  let home: string;
  let secret: string;
  const contexts = () => parse(readFileSync(join(home, '.kube', 'config'), 'utf8')).contexts.map((c: { name: string }) => c.name);

  beforeAll(async () => {
    harness = await startClientHarness();
    home = mkdtempSync(join(tmpdir(), 'kubeport-tsh-'));
    const clusters = join(home, 'clusters.yaml');
    writeFileSync(
      clusters,
      [
        { name: 'dev', labels: { env: 'dev' } },
        { name: 'prod', labels: { env: 'prod' } },
      ]
        .map((c) => stringify({ kind: 'kube_cluster', metadata: c }))
        .join('---\n'),
    );
    await create({ file: clusters, force: false }, tctlRun(harness).deps);
  });
  afterAll(() => harness?.close());

  it('login with an invite enrolls, keeps the profile and points kubectl at the first cluster', async () => {
    const invite = await harness.addUser('alice', { roles: ['access'], kubernetesGroups: ['devs'] });
    let answered = false;
    const tsh = tshRun(harness, home, {
      homeOverride: true,
      answer: (stderr, stdin) => {
        const found = secretFromOtpauth(stderr);
        if (found && !answered && stderr.includes('6-digit code')) {
          answered = true;
          secret = found;
          stdin.write(`${codeFor(found, 0, harness.clock.now())}\n`);
        }
      },
    });
    tsh.stdin.write(`${PASSWORD}\n`);
    await login({ proxy: harness.proxy, user: 'alice', invite, ttlSeconds: 3600 }, tsh.deps);
    expect(tsh.stderr.text()).toContain('Welcome, alice. Add this account to your authenticator app (TOTP):\n  otpauth://totp/');
    expect(tsh.stdout.text()).toContain('> Profile URL:        ' + harness.proxy);
    expect(tsh.stdout.text()).toContain('  Kubernetes groups:  devs\n  Valid until:        ');
    // --ttl took effect: an hour, less the part of a second the certificate's end is rounded down by.
    expect(tsh.stdout.text()).toMatch(/ local \[valid for (59m59s|1h)\]\n/);
    expect(tsh.stdout.text()).toMatch(/\nLogged into Kubernetes cluster dev\. Try: kubectl get pods\n$/);

    const kubeconfig = parse(readFileSync(join(home, '.kube', 'config'), 'utf8'));
    expect(kubeconfig['current-context']).toBe('kubeport-test-dev');
    expect(contexts()).toEqual(['kubeport-test-dev', 'kubeport-test-prod']);
    const exec = kubeconfig.users.find((u: { name: string }) => u.name === 'kubeport-test-dev').user.exec;
    expect(exec.command).toBe('/usr/bin/node');
    expect(exec.args).toEqual(['/opt/kubeport/cli/tsh.mjs', 'kube', 'credentials', '--kube-cluster=dev', `--proxy=${harness.proxy}`]);
    expect(exec.env).toEqual([{ name: 'TSH_HOME', value: join(home, '.tsh') }]);
  });

  it('status shows the login and its contexts, then says to log in again once it expired', async () => {
    const now = tshRun(harness, home);
    await status({}, now.deps);
    expect(now.stdout.text()).toContain('  Logged in as:       alice\n');
    expect(now.stdout.text()).toContain('  Kube contexts:      kubeport-test-dev, kubeport-test-prod\n');
    harness.clock.advance(2 * 3_600_000);
    try {
      const later = tshRun(harness, home);
      // Exits 1 (a thrown user error) after showing the table, which says since when.
      await expect(status({}, later.deps)).rejects.toThrow(
        `your Kubeport session for alice at ${harness.proxy} expired 1h ago; run: ${cliCommand('tsh')} login --proxy=${harness.proxy} --user=alice`,
      );
      expect(later.stdout.text()).toMatch(/  Valid until:        \d{4}-\d\d-\d\d \d\d:\d\d local \[EXPIRED 1h ago\]\n$/);
      expect(() => kubeCredentials({ kubeCluster: 'dev' }, later.deps)).toThrow(
        /your Kubeport session for alice at .* expired 1h ago; run: (npx )?tsh login/,
      );
      await expect(kubeLs({ format: 'text' }, later.deps)).rejects.toThrow('expired');
    } finally {
      harness.clock.advance(-2 * 3_600_000);
    }
  });

  it('kube credentials prints an ExecCredential that ends a minute before the certificate', () => {
    const tsh = tshRun(harness, home);
    kubeCredentials(optionsFrom(['--kube-cluster=dev', `--proxy=${harness.proxy}`]), tsh.deps);
    const credential = JSON.parse(tsh.stdout.text());
    expect(credential).toMatchObject({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1',
      spec: { interactive: false },
    });
    expect(credential.status.clientKeyData).toContain('PRIVATE KEY');
    const ends = new Date(credential.status.expirationTimestamp).getTime();
    expect(ends - harness.clock.now().getTime()).toBeGreaterThan(3_600_000 - 62_000);
    expect(ends - harness.clock.now().getTime()).toBeLessThan(3_600_000 - 58_000);
    expect(() => kubeCredentials(optionsFrom([]), tsh.deps)).toThrow('kube credentials needs --kube-cluster=NAME');
  });

  it('kube ls lists the clusters as a table and as JSON; kube login switches; an unknown cluster is named', async () => {
    const table = tshRun(harness, home);
    await kubeLs({ format: 'text' }, table.deps);
    expect(table.stdout.text()).toBe(
      [
        'Kube Cluster Name Labels   Status  Selected',
        '----------------- -------- ------- --------',
        'dev               env=dev  unknown *',
        'prod              env=prod unknown',
        '',
      ].join('\n'),
    );
    const switched = tshRun(harness, home);
    await kubeLogin({ cluster: 'prod' }, switched.deps);
    expect(switched.stdout.text()).toBe('Logged into Kubernetes cluster prod. Try: kubectl get pods\n');
    const json = tshRun(harness, home);
    await kubeLs({ format: 'json' }, json.deps);
    // No agent has checked either cluster: unknown, saying why.
    const unknown = { status: 'unknown', reason: 'no agent has checked this cluster yet', fix: expect.stringContaining('start an agent') };
    expect(JSON.parse(json.stdout.text())).toEqual([
      { kube_cluster_name: 'dev', labels: { env: 'dev' }, selected: false, ...unknown },
      { kube_cluster_name: 'prod', labels: { env: 'prod' }, selected: true, ...unknown },
    ]);
    await expect(kubeLogin({ cluster: 'nope' }, tshRun(harness, home).deps)).rejects.toThrow(
      `kubernetes cluster "nope" not found or not allowed; ${cliCommand('tsh')} kube ls lists yours`,
    );
  });

  it('login with password and code; a wrong code is refused and keeps the old profile', async () => {
    const other = mkdtempSync(join(tmpdir(), 'kubeport-tsh-'));
    const wrong = tshRun(harness, other);
    wrong.stdin.write(`${PASSWORD}\n000000\n`);
    await expect(login({ proxy: harness.proxy, user: 'alice' }, wrong.deps)).rejects.toThrow('invalid user name, password or TOTP code');
    expect(wrong.deps.store.current()).toBeUndefined();

    const right = tshRun(harness, other);
    right.stdin.write(`alice\n${PASSWORD}\n${codeFor(secret, 1, harness.clock.now())}\n`);
    await login({ proxy: harness.proxy, kubeCluster: 'prod' }, right.deps);
    expect(right.stderr.text()).toBe('User: Password for alice: Enter the 6-digit code from your authenticator app: ');
    expect(right.stdout.text()).toContain('Logged into Kubernetes cluster prod.');

    // Again without flags: the current profile's proxy and user, as Teleport's tsh does.
    const again = tshRun(harness, other);
    harness.clock.advance(60_000); // each code works once: the next login needs a later step
    again.stdin.write(`${PASSWORD}\n${codeFor(secret, 0, harness.clock.now())}\n`);
    await login({}, again.deps).finally(() => harness.clock.advance(-60_000));
    expect(again.stderr.text()).toBe('Password for alice: Enter the 6-digit code from your authenticator app: ');
    expect(again.stdout.text()).toContain(`> Profile URL:        ${harness.proxy}\n  Logged in as:       alice\n`);

    const fresh = mkdtempSync(join(tmpdir(), 'kubeport-tsh-'));
    await expect(login({}, tshRun(harness, fresh).deps)).rejects.toThrow(
      `no previous login to reuse; run: ${cliCommand('tsh')} login --proxy=HOST:PORT`,
    );
    const ended = tshRun(harness, fresh);
    ended.stdin.end('alice\n');
    await expect(login({ proxy: harness.proxy }, ended.deps)).rejects.toThrow(
      'standard input ended before an answer to "Password for alice:"',
    );
  });

  it('without a terminal, a short password ends tsh before the code is asked, and a 5-digit code is refused; the invite stays usable', async () => {
    const invite = await harness.addUser('bob', { roles: ['access'] });
    const elsewhere = mkdtempSync(join(tmpdir(), 'kubeport-tsh-'));
    const short = tshRun(harness, elsewhere);
    short.stdin.write('too short\n123456\n');
    await expect(login({ proxy: harness.proxy, user: 'bob', invite }, short.deps)).rejects.toThrow(
      /^password must have at least 12 characters$/,
    );
    expect(short.stderr.text()).not.toContain('6-digit code');

    const fiveDigits = tshRun(harness, elsewhere);
    fiveDigits.stdin.write(`${PASSWORD}\n12345\n`);
    await expect(login({ proxy: harness.proxy, user: 'bob', invite }, fiveDigits.deps)).rejects.toThrow(
      'the code must be exactly 6 digits, not "12345"',
    );
    // Same invite, same secret as the first try: the authenticator entry holds.
    expect(secretFromOtpauth(fiveDigits.stderr.text())).toBe(secretFromOtpauth(short.stderr.text()));
    const right = tshRun(harness, elsewhere);
    right.stdin.write(`${PASSWORD}\n${codeFor(secretFromOtpauth(short.stderr.text())!, 0, harness.clock.now())}\n`);
    await login({ proxy: harness.proxy, user: 'bob', invite }, right.deps);
    expect(right.stdout.text()).toContain('Logged in as:       bob');
  });

  it("logout removes exactly this login's entries; a second logout says not logged in", async () => {
    const out = tshRun(harness, home);
    await logout({}, out.deps);
    expect(out.stdout.text()).toBe(`Logged out of ${harness.proxy}; removed kubeconfig entries kubeport-test-dev, kubeport-test-prod.\n`);
    expect(contexts()).toEqual([]);
    const again = tshRun(harness, home);
    await logout({}, again.deps);
    expect(again.stdout.text()).toBe('Not logged in.\n');
    await expect(status({}, tshRun(harness, home).deps)).rejects.toThrow(
      `not logged in; run: ${cliCommand('tsh')} login --proxy=HOST:PORT`,
    );
  });
});
