// npm start -- --demo: Kubeport on a machine without any cluster, as the README offers it.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, node, run, tshEnroll } from '../support/cli.js';
import { type LocalModeProcess, startLocalModeProcess } from '../support/local-mode-process.js';
import { whenForwarding } from '../support/port-forward.js';
import { accessFromKubeconfig, getVersion, sendUnmaskedExecFrame } from '../support/raw-exec.js';
import { openTerminal } from '../support/tmux-terminal.js';

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

  it('serves the demo clusters, and kubectl reaches them after tctl users add and tsh login', async () => {
    expect(local.output()).toMatch(/demo-dev \[env=dev\]/);
    expect(local.output()).toMatch(/demo-prod \[env=prod\]/);
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

  it('has two clusters with their own pods, and tsh kube login moves between them', async () => {
    expect((await node(cliPath('tsh'), ['kube', 'login', 'demo-prod'], { env })).code).toBe(0);
    const prod = await run('kubectl', ['get', 'pods', '-A'], { env, cwd: dir });
    expect(prod.stdout, prod.stderr).toMatch(/^prod\s+payments-0\s/m);
    expect(prod.stdout).toMatch(/^default\s+web-2\s/m);
    expect((await node(cliPath('tsh'), ['kube', 'login', 'demo-dev'], { env })).code).toBe(0);
    const dev = await run('kubectl', ['get', 'pods', '-A'], { env, cwd: dir });
    expect(dev.stdout, dev.stderr).toMatch(/^default\s+web-1\s/m);
    expect(dev.stdout).not.toMatch(/web-2|payments/);
  });

  it('ends kubectl exec of a shell or cat without -i at once, as a kubelet does with no standard input', async () => {
    for (const command of ['sh', 'cat']) {
      const result = await run('kubectl', ['exec', 'web-0', '--', command], { env, cwd: dir, timeoutMs: 10_000 });
      expect(result.code, `${command}: ${result.stderr}`).toBe(0);
    }
  });

  // Before, each of them ended after about a second.
  it.each([
    ['get pods -w', ['get', 'pods', '-w'], /^web-1\s.*\n(.*\n)*web-0\s/m],
    ['get events -w', ['get', 'events', '-w'], /^\d+s\s+Warning\s+Unhealthy\s+pod\/web-0/m],
    ['logs -f', ['logs', '-f', 'web-0'], /web-0 log line 1\n/],
  ])('keeps kubectl %s open through Kubeport, with news every few seconds', async (_name, args, news) => {
    const child = spawn('kubectl', args, { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = Date.now();
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no news within 15 s: ${output}`)), 15_000);
        child.stdout.on('data', () => news.test(output) && (clearTimeout(timer), resolve()));
        child.on('exit', (code) => reject(new Error(`kubectl ${args.join(' ')} ended by itself (${code}): ${output}`)));
      });
      // The demo's news comes every 3 s: by then the old one-second streams had long ended.
      expect(Date.now() - started).toBeGreaterThan(2_000);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGINT');
    }
  });

  it('gives kubectl exec -it a shell at a real terminal that echoes, edits, and exits with exit or Ctrl-D', async () => {
    const terminal = await openTerminal('kubectl exec -it web-0 -- sh', env);
    try {
      await terminal.waitForFirstPrompt(/root@web-0:\/#$/m);
      await terminal.type('echo hix');
      await terminal.keys('BSpace', 'Enter');
      await terminal.waitFor(/^root@web-0:\/# echo hi\nhi\nroot@web-0:\/#$/m);
      await terminal.type('exit');
      await terminal.keys('Enter');
      // Before: "Unknown stream id 2" and exit code 127.
      const screen = await terminal.waitFor(/\[exit \d+\]/);
      expect(screen).toContain('[exit 0]');
      expect(screen).not.toMatch(/Unknown stream id 2|command terminated/);
    } finally {
      await terminal.close();
    }

    const again = await openTerminal('kubectl exec -it web-0 -- sh', env);
    try {
      await again.waitForFirstPrompt(/root@web-0:\/#$/m);
      await again.type('some text');
      await again.keys('C-c');
      await again.waitFor(/some text\^C\nroot@web-0:\/#$/m);
      await again.keys('C-d');
      const screen = await again.waitFor(/\[exit \d+\]/);
      expect(screen).toMatch(/^root@web-0:\/# exit\n\[exit 0\]/m);
    } finally {
      await again.close();
    }
  });

  it('lets kubectl exec -it ... -- cat be left with Ctrl-D', async () => {
    const terminal = await openTerminal('kubectl exec -it web-0 -- cat', env);
    try {
      await terminal.type('hello');
      await terminal.keys('Enter');
      await terminal.waitFor(/^hello\nhello\n/m);
      await terminal.keys('C-d');
      expect(await terminal.waitFor(/\[exit \d+\]/)).toContain('[exit 0]');
    } finally {
      await terminal.close();
    }
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

  it("forwards a demo pod's named http port: curl through kubectl port-forward gets its page", async () => {
    const child = spawn('kubectl', ['port-forward', 'pod/web-0', ':http'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const pf = await whenForwarding(child, [8080]);
    try {
      const curl = await run('curl', ['-sS', `http://127.0.0.1:${pf.local.get(8080)}/`], { env, cwd: dir });
      expect(curl.stderr).toBe('');
      expect(curl.stdout).toBe('Hello from pod default/web-0 (Kubeport demo cluster), port 8080 (http).\nYou sent: GET /\n');
    } finally {
      await pf.stop();
    }
  });
});
