// The real tsh (cli/tsh.mjs, its own process) logging in with GitHub, as a person sees it: the
// browser is $BROWSER (a script that records its argument and walks the scripted browser), or
// nothing with --browser=none; Ctrl-C is a real SIGINT; headless at a real terminal (tmux).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserScript } from '../support/browser-script.js';
import { cliPath, node, repoRoot, waitForOutput } from '../support/cli.js';
import { browse } from '../support/scripted-browser.js';
import { openTerminal } from '../support/tmux-terminal.js';
import { type GitHubHarness, OCTOCAT, startGitHubHarness } from './github-harness.js';

const URL_LINE = /^If the browser does not open, visit: (\S+)$/m;
const urlLines = (text: string) => text.split('\n').filter((line) => /[a-z][a-z0-9+.-]*:\/\//i.test(line));

function freshEnv(extra: NodeJS.ProcessEnv = {}) {
  const home = mkdtempSync(join(tmpdir(), 'kubeport-tsh-'));
  // No desktop and no $BROWSER unless a test gives one: nothing opens a real browser.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['BROWSER', 'DISPLAY', 'WAYLAND_DISPLAY']) delete env[name];
  return { home, env: { ...env, HOME: home, TSH_HOME: join(home, '.tsh'), KUBECONFIG: join(home, '.kube', 'config'), ...extra } };
}

describe('tsh login with GitHub as a process', () => {
  let harness: GitHubHarness;
  beforeAll(async () => {
    harness = await startGitHubHarness();
  });
  afterAll(() => harness?.close());

  it('opens $BROWSER with the sign-in URL; the browser walks to the success page and tsh exits 0', async () => {
    const browser = browserScript();
    const { env } = freshEnv({ BROWSER: browser.path });
    const result = await node(cliPath('tsh'), ['login', `--proxy=${harness.proxy}`], { env, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    const printed = URL_LINE.exec(result.stderr)![1]!;
    expect(await browser.argument()).toBe(printed);
    const landing = await browser.landing();
    expect(landing.body).toContain('Login successful, you may close this page');
    expect(urlLines(result.stderr)).toEqual([`If the browser does not open, visit: ${printed}`]);
    expect(result.stdout).toContain('Logged in as:       octocat');
  });

  it('--browser=none prints one URL line on standard error and nothing URL-like before it; visiting it logs in', async () => {
    const { env } = freshEnv();
    let visited = false;
    const result = await node(cliPath('tsh'), ['login', `--proxy=${harness.proxy}`, '--browser=none'], {
      env,
      respond: (stderr) => {
        const url = URL_LINE.exec(stderr)?.[1];
        if (url && !visited) {
          visited = true;
          void browse(url);
        }
      },
      timeoutMs: 30_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(urlLines(result.stderr)).toHaveLength(1);
    expect(result.stderr.split('\n')[0]).toMatch(URL_LINE);
    expect(result.stderr).toContain('Waiting up to 3 minutes for you to sign in with GitHub in the browser (Ctrl-C cancels)...');
    expect(result.stdout).not.toMatch(/:\/\//);
  });

  it('Ctrl-C while waiting: one line, exit 130, no stack, and the loopback listener is gone', async () => {
    const { env } = freshEnv();
    const child: ChildProcess = spawn(process.execPath, [cliPath('tsh'), 'login', `--proxy=${harness.proxy}`, '--browser=none'], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitForOutput(child, /Ctrl-C cancels/);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr.trimEnd().split('\n').at(-1)).toBe('tsh: login cancelled (Ctrl-C); nothing was saved');
    expect(stderr).not.toMatch(/\n\s+at /);
    // GitHub and the API still answer; the way back to tsh does not.
    await expect(browse(URL_LINE.exec(stderr)![1]!)).rejects.toThrow();
  });

  it('--browser with another value is a usage error of one line', async () => {
    const { env } = freshEnv();
    const result = await node(cliPath('tsh'), ['login', `--proxy=${harness.proxy}`, '--browser=firefox'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('tsh: --browser firefox is not known; the one value is none (print the URL instead of opening a browser)\n');
  });

  it('--headless at a real terminal: the page and code, a countdown redrawn in place, then the login', async () => {
    const { env } = freshEnv();
    const terminal = await openTerminal(
      [process.execPath, cliPath('tsh'), 'login', `--proxy=${harness.proxy}`, '--headless'].join(' '),
      env,
    );
    try {
      const screen = await terminal.waitFor(/Waiting for approval: the code expires in 1\d:\d\d/);
      const code = /enter the code:\s+(\S+)/.exec(screen)![1]!;
      expect(screen).toContain(`${harness.github.url}/login/device`);
      // Approved before tsh's first poll (5 s in).
      harness.github.device(code).approve(OCTOCAT.id);
      const done = await terminal.waitFor(/\[exit \d+\]/, 30_000);
      expect(done).toContain('[exit 0]');
      expect(done).toContain('Logged in as:       octocat');
      // One countdown line, redrawn: not one line per second.
      expect(done.match(/Waiting for approval/g)).toHaveLength(1);
    } finally {
      await terminal.close();
    }
  });
});
