// tsh installed as a user installs it (`npm install -g .` from the clone, here into a scratch
// prefix): the command on PATH runs from any directory through npm's symlink, its hints name the
// command as the user can type it, and the kubeconfig's exec plugin is `tsh`, so it does not
// depend on where the clone is.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { run as create } from '../../lib/client/commands/tctl-create.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, codeFor, repoRoot, run, secretFromOtpauth } from '../support/cli.js';
import { type ClientHarness, startClientHarness, tctlRun } from './client-harness.js';

describe('tsh installed with npm install -g', () => {
  let harness: ClientHarness;
  let prefix: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const outside = mkdtempSync(join(tmpdir(), 'kubeport-cwd-'));

  beforeAll(async () => {
    harness = await startClientHarness();
    prefix = mkdtempSync(join(tmpdir(), 'kubeport-prefix-'));
    const installed = await run('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '.'], {
      timeoutMs: 60_000,
    });
    expect(installed.code, installed.stderr).toBe(0);
    home = mkdtempSync(join(tmpdir(), 'kubeport-home-'));
    env = {
      ...process.env,
      PATH: `${join(prefix, 'bin')}${delimiter}${process.env.PATH}`,
      HOME: home,
      TSH_HOME: join(home, '.tsh'),
      KUBECONFIG: join(home, '.kube', 'config'),
    };
  }, 90_000);
  afterAll(() => harness?.close());

  it('runs as `tsh` from any directory and says `tsh` in its hints', async () => {
    const version = await run('tsh', ['version'], { env, cwd: outside });
    expect(version.stdout).toMatch(/^Kubeport tsh v0\.1\.0 node v\d+\.\d+\.\d+\n$/);
    const status = await run('tsh', ['status'], { env, cwd: outside });
    expect(status.code).toBe(1);
    expect(status.stderr).toBe('tsh: not logged in; run: tsh login --proxy=HOST:PORT --user=NAME\n');
  });

  it('without tsh on PATH, hints say `npx tsh` inside the clone and the launcher path outside it', async () => {
    const bare = { ...env, PATH: process.env.PATH };
    const inside = await run(process.execPath, [cliPath('tsh'), 'status'], { env: bare, cwd: repoRoot });
    expect(inside.stderr).toBe('tsh: not logged in; run: npx tsh login --proxy=HOST:PORT --user=NAME\n');
    const away = await run(process.execPath, [cliPath('tsh'), 'status'], { env: bare, cwd: outside });
    expect(away.stderr).toBe(`tsh: not logged in; run: ${cliPath('tsh')} login --proxy=HOST:PORT --user=NAME\n`);
  });

  it('writes `tsh` as the exec plugin, and kubectl runs it from PATH', async () => {
    const clusters = join(home, 'clusters.yaml');
    writeFileSync(clusters, stringify({ kind: 'kube_cluster', metadata: { name: 'dev', labels: { env: 'dev' } } }));
    await create({ file: clusters, force: false }, tctlRun(harness).deps);
    const invite = await harness.addUser('dora', { roles: ['access'] });
    let answered = false;
    const login = await run('tsh', ['login', `--proxy=${harness.proxy}`, '--user=dora', `--invite=${invite}`], {
      env,
      cwd: outside,
      input: 'correct horse battery staple\n',
      respond: (stderr, stdin) => {
        const secret = secretFromOtpauth(stderr);
        if (secret && !answered && stderr.includes('6-digit code')) {
          answered = true;
          stdin.end(`${codeFor(secret, 0, harness.clock.now())}\n`);
        }
      },
    });
    expect(login.code, login.stderr).toBe(0);
    const users = parse(readFileSync(join(home, '.kube', 'config'), 'utf8')).users as {
      user: { exec: { command: string; args: string[] } };
    }[];
    expect(users.map((u) => u.user.exec.command)).toEqual(users.map(() => 'tsh'));
    expect(users[0]!.user.exec.args.slice(0, 2)).toEqual(['kube', 'credentials']);
    // The plugin gave kubectl its credentials: what fails next is reaching a cluster, not the plugin.
    const kubectl = await run('kubectl', ['--request-timeout=2s', 'get', 'pods'], { env, cwd: outside });
    expect(kubectl.stderr).not.toContain('getting credentials');
    expect(kubectl.stderr).toContain('/k8s/dev/');
  });
});
