// npm start -- --demo: Kubeport on a machine without any cluster, as the README offers it.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, node, run, tshEnroll } from '../support/cli.js';
import { type LocalModeProcess, startLocalModeProcess } from '../support/local-mode-process.js';
import { accessFromKubeconfig, getVersion, sendUnmaskedExecFrame } from '../support/raw-exec.js';

describe('npm start -- --demo', () => {
  let dir: string;
  let local: LocalModeProcess;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeport-demo-'));
    mkdirSync(join(dir, 'home'));
    env = {
      ...process.env,
      HOME: join(dir, 'home'),
      TSH_HOME: join(dir, 'home', '.tsh'),
      KUBECONFIG: join(dir, 'home', '.kube', 'config'),
      KUBECACHEDIR: join(dir, 'cache'),
    };
    local = await startLocalModeProcess({ dataDir: join(dir, 'data'), extraArgs: ['--demo'], env });
  });
  afterAll(async () => {
    await local?.stop();
  });

  it('without a kubeconfig, says so and offers --demo', async () => {
    const result = await node(cliPath('kubeport-local'), ['--data-dir', join(dir, 'other')], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `kubeport: no kubeconfig at ${join(dir, 'home', '.kube', 'config')}; pass --kubeconfig FILE, or try Kubeport with its demo cluster: npm start -- --demo\n`,
    );
  });

  it('serves the demo cluster, and kubectl reaches it after tctl users add and tsh login', async () => {
    expect(local.output()).toMatch(/clusters\s+demo\n/);
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
    const pods = await run('kubectl', ['get', 'pods', '-n', 'default'], { env, cwd: dir });
    expect(pods.stdout).toMatch(/web-0\s+1\/1\s+Running/);
  });

  // Before, the demo cluster ran inside npm start, and this one frame ended the whole process.
  it('keeps Kubeport and the demo cluster up after an unmasked WebSocket frame on a demo exec', async () => {
    const demo = accessFromKubeconfig(join(dir, 'data', 'demo-kubeconfig.yaml'));
    const statusLine = await sendUnmaskedExecFrame(demo, ['Impersonate-User: alice', 'Impersonate-Group: system:masters']);
    expect(statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    expect(await getVersion(demo)).toBe(200);
    expect(local.child.exitCode).toBeNull();
    const pods = await run('kubectl', ['get', 'pods', '-n', 'default'], { env, cwd: dir });
    expect(pods.stdout, pods.stderr).toMatch(/web-0\s+1\/1\s+Running/);
  });
});
