// npm start stopped with SIGTERM while kubectl has an exec and a watch open: the agent takes no new
// connections, says what it waits for, lets both run until --drain-timeout, then ends them with
// a message kubectl prints (exec exits non-zero), and the process exits 0.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, node, run, tshEnroll } from '../support/cli.js';
import { type LocalModeProcess, startLocalModeProcess } from '../support/local-mode-process.js';

/** kubectl left running: its output so far, and its exit. */
function started(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  const child: ChildProcess = spawn('kubectl', args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

describe('npm start stopped with SIGTERM while streams are open', () => {
  let dir: string;
  let local: LocalModeProcess;
  let env: NodeJS.ProcessEnv;
  const DRAIN_S = 4;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeport-drain-'));
    mkdirSync(join(dir, 'home'));
    env = {
      ...process.env,
      HOME: join(dir, 'home'),
      TSH_HOME: join(dir, 'home', '.tsh'),
      KUBECONFIG: join(dir, 'home', '.kube', 'config'),
      KUBECACHEDIR: join(dir, 'cache'),
    };
    local = await startLocalModeProcess({ dataDir: join(dir, 'data'), extraArgs: ['--demo', '--drain-timeout', `${DRAIN_S}s`], env });
    const added = await node(cliPath('tctl'), [
      `--data-dir=${join(dir, 'data')}`,
      'users',
      'add',
      'alice',
      '--roles=access',
      '--kubernetes-groups=system:masters',
    ]);
    const invite = /--invite=(\S+)/.exec(added.stdout)![1]!;
    const login = await tshEnroll(env, local.proxy, 'alice', invite, 'correct horse battery staple');
    expect(login.code, login.stderr).toBe(0);
  });
  afterAll(async () => {
    await local?.stop();
  });

  it('refuses new requests, runs the open exec and watch until the deadline, ends them with the message, and exits 0', async () => {
    const exec = started(['exec', '-i', 'web-0', '--', 'cat'], env, dir);
    exec.child.stdin!.write('still here\n');
    const watch = started(['get', 'pods', '-w'], env, dir);
    await expect.poll(() => exec.stdout() + exec.stderr(), { timeout: 20_000 }).toContain('still here');
    await expect.poll(() => watch.stdout(), { timeout: 20_000 }).toMatch(/web-0\s.*\n(.*\n)*web-\d\s/);

    const exitCode = new Promise<number | null>((resolve) => local.child.once('exit', (code) => resolve(code)));
    const signalledAt = Date.now();
    local.child.kill('SIGTERM');
    await expect
      .poll(() => local.output(), { timeout: 5_000 })
      .toMatch(/waiting up to 4 s for 1 exec, attach or port-forward session and 1 watch or followed log to end/);

    // No new requests while draining; the open exec still carries data both ways.
    const refused = await run('kubectl', ['get', 'pods'], { env, cwd: dir, timeoutMs: 20_000 });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/connection to the server .* was refused/);
    exec.child.stdin!.write('during the drain\n');
    await expect.poll(() => exec.stdout(), { timeout: 3_000 }).toContain('during the drain');

    // At the deadline both end, and kubectl prints why.
    const execCode = await exec.exited;
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(DRAIN_S * 1000 - 200);
    expect(execCode).not.toBe(0);
    expect(exec.stderr()).toContain('the Kubeport agent is shutting down; run the command again');
    await watch.exited;
    expect(watch.stdout() + watch.stderr()).toContain('the Kubeport agent is shutting down; run the command again');
    expect(await exitCode).toBe(0);
    expect(local.output()).toMatch(/ended 2 open streams/);
  }, 60_000);
});
