// npm start as a person runs it, a second time and on a busy port: one line naming the fix,
// never a stack trace; and a start-up banner whose next step fits the data directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../lib/adapters/local/free-port.js';
import { LOCK_FILE } from '../../lib/app/data-dir-lock.js';
import { cliPath, node } from '../support/cli.js';
import { type LocalModeProcess, startLocalModeProcess } from '../support/local-mode-process.js';

describe('npm start', { timeout: 90_000 }, () => {
  let dir: string;
  let kubeconfig: string;
  let local: LocalModeProcess | undefined;
  const start = (dataDir: string, args: string[]) =>
    node(cliPath('kubeport-local'), ['--kubeconfig', kubeconfig, '--data-dir', dataDir, ...args], { timeoutMs: 60_000 });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubeport-start-'));
    kubeconfig = join(dir, 'kubeconfig.yaml');
    // Nothing has to answer at this address: local mode only registers the cluster.
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:9', 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'u', user: { token: 'unused' } }],
        contexts: [{ name: 'dev', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'dev',
      }),
    );
  });
  afterAll(async () => {
    await local?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a second start on the same data directory names the running one and how to stop it; the lock goes on exit', async () => {
    const dataDir = join(dir, 'data');
    local = await startLocalModeProcess({ dataDir, kubeconfig });
    expect(local.output()).toContain('tctl users add alice --roles=access');
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).toBe(`${local.child.pid}\n`);

    const second = await start(dataDir, ['--api-addr', `127.0.0.1:${await freePort()}`, '--agent-addr', `127.0.0.1:${await freePort()}`]);
    expect(second.code).toBe(2);
    expect(second.stderr).toBe(
      `kubeport: Kubeport is already running with data directory ${dataDir} (pid ${local.child.pid}); stop it first (Ctrl-C in its terminal, or kill ${local.child.pid})\n`,
    );

    // With a user in the directory, the next step is logging in, not adding one.
    const added = await node(cliPath('tctl'), ['--data-dir', dataDir, 'users', 'add', 'bob', '--roles=access']);
    expect(added.code).toBe(0);
    // A GitHub connector and a GitHub user: dana does not count as one to log in as with --user.
    const file = join(dir, 'github.yaml');
    writeFileSync(
      file,
      [
        'kind: github\nversion: v3\nmetadata:\n  name: github\nspec:\n  client_id: x\n  client_secret: y',
        '  redirect_url: http://127.0.0.1:1/webapi/github/callback\n  teams_to_roles:\n    - {organization: acme, team: devs, roles: [access]}',
        '---\nkind: user\nversion: v2\nmetadata:\n  name: dana\nspec:\n  roles: [access]',
        '  github_identities: [{connector_id: github, username: dana, user_id: "7"}]\n  created_by: {connector: github}\n',
      ].join('\n'),
    );
    const created = await node(cliPath('tctl'), ['--data-dir', dataDir, 'create', '-f', file]);
    expect(created.stderr).toBe('');
    expect(await local.stop()).toBe(0);
    local = undefined;
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);

    // A lock left by a process that is gone (kill -9, a crash) is taken over.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dataDir, LOCK_FILE), `${gone.stdout}\n`, { mode: 0o600 });
    local = await startLocalModeProcess({ dataDir, kubeconfig });
    expect(local.output()).toMatch(
      /Next, in another terminal, log in as one of the 1 local user:\n {2}npx tsh login --proxy=127\.0\.0\.1:\d+ --user=NAME\nor log in with GitHub:\n {2}npx tsh login --proxy=127\.0\.0\.1:\d+ --auth=github\n/,
    );
    expect(local.output()).not.toContain('tctl users add');
    await local.stop();
    local = undefined;
  });

  it('a demo GitHub port in use: the cause, then a line that names the demo as a whole, not the cluster', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const result = await start(join(dir, 'clash'), [
        '--api-addr',
        `127.0.0.1:${await freePort()}`,
        '--agent-addr',
        `127.0.0.1:${await freePort()}`,
        '--demo',
        '--demo-github-addr',
        `127.0.0.1:${port}`,
      ]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`the demo GitHub cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
      expect(result.stderr).toContain('the demo (clusters and GitHub) could not start');
      expect(result.stderr).not.toContain('demo cluster exited');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('a mistyped flag prints the one line and the short usage', async () => {
    const result = await start(join(dir, 'typo'), ['--api-adr', '127.0.0.1:3080']);
    expect(result).toMatchObject({
      code: 2,
      stderr:
        "error: unknown option '--api-adr'\n(Did you mean --api-addr?)\nUsage: npm start -- [options]\nRun 'npm start -- --help' for more.\n",
    });
  });

  it('a port in use names the flag that moves it', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
    const port = (busy.address() as { port: number }).port;
    try {
      const api = await start(join(dir, 'api'), ['--api-addr', `127.0.0.1:${port}`, '--agent-addr', `127.0.0.1:${await freePort()}`]);
      expect(api.code).toBe(2);
      expect(api.stderr).toMatch(
        new RegExp(
          `\\nkubeport: 127\\.0\\.0\\.1:${port} is in use \\(by another program\\); choose another with npm start -- --api-addr 127\\.0\\.0\\.1:PORT\\n$`,
        ),
      );
      const agent = await start(join(dir, 'agent'), ['--api-addr', `127.0.0.1:${await freePort()}`, '--agent-addr', `127.0.0.1:${port}`]);
      expect(agent.code).toBe(2);
      expect(agent.stderr).toMatch(/choose another with npm start -- --agent-addr 127\.0\.0\.1:PORT\n$/);
      expect(agent.stderr).not.toMatch(/\n\s+at /);
      // The failed start left no lock behind.
      expect(existsSync(join(dir, 'agent', LOCK_FILE))).toBe(false);
    } finally {
      busy.close();
    }
  });
});
