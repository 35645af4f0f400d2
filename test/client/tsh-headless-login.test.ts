// tsh login --headless (GitHub's device flow), in this process, against the real auth API and the
// GitHub stand-in. Time is the harness's: each of tsh's sleeps moves the clock, so intervals,
// the countdown and the code's expiry play out without waiting.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../../lib/client/api-client.js';
import { run as login } from '../../lib/client/commands/tsh-login.js';
import { InterruptedError } from '../../lib/client/login-wait.js';
import { type TshRun, tshRun } from './client-harness.js';
import { type GitHubHarness, OCTOCAT, startGitHubHarness } from './github-harness.js';

const CODE = /enter the code:\n\n {2}(\S+)\n/;

describe('tsh login --headless', () => {
  let harness: GitHubHarness;
  let home: string;
  beforeAll(async () => {
    harness = await startGitHubHarness();
  });
  afterAll(() => harness?.close());
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'kubeport-tsh-'));
    harness.github.apps.get('Iv1.kubeport-test')!.deviceFlow = true;
  });

  /**
   * tsh whose sleeps move the harness clock; `onCode` runs once when the code is printed.
   * `polls` holds the clock time (ms since the code was printed) of each poll tsh sent.
   */
  function headless(options: { onCode?: (code: string, tsh: TshRun) => void; tty?: boolean } = {}) {
    const polls: number[] = [];
    let shownAt: number | undefined;
    let seen = false;
    const tsh: TshRun = tshRun(harness, home, {
      sleep: async (ms) => harness.clock.advance(ms),
      ...(options.tty ? { tty: true } : {}),
      answer: (stderr) => {
        const code = CODE.exec(stderr)?.[1];
        if (code && !seen) {
          seen = true;
          shownAt = harness.clock.now().getTime();
          options.onCode?.(code, tsh);
        }
      },
    });
    // Watches what tsh sends, nothing more: a real client to the real API.
    class Watched extends ApiClient {
      override call<T>(method: string, path: string, body?: unknown, identity?: Parameters<ApiClient['call']>[3]): Promise<T> {
        if (path === '/webapi/github/login/headless/poll') polls.push(harness.clock.now().getTime() - shownAt!);
        return super.call<T>(method, path, body, identity);
      }
    }
    tsh.deps.api = (proxy, audience) => new Watched(proxy, audience, harness.clock);
    return { tsh, polls };
  }

  it('shows the page and the code, polls at the interval, and logs in once the code is approved', async () => {
    const { tsh, polls } = headless({ onCode: (code) => harness.github.device(code).approve(OCTOCAT.id) });
    await login({ proxy: harness.proxy, auth: 'github', headless: true }, tsh.deps);
    const stderr = tsh.stderr.text();
    expect(stderr).toMatch(
      new RegExp(
        `^To log in with GitHub, open this page on any device:\\n\\n {2}${harness.github.url}/login/device\\n\\nand enter the code:\\n\\n {2}[0-9A-F]{4}-[0-9A-F]{4}\\n\\n`,
      ),
    );
    expect(stderr).toContain('Waiting for approval: the code expires in 15:00 (Ctrl-C cancels)\n');
    expect(polls).toEqual([5000]);
    expect(tsh.stdout.text()).toContain('Logged in as:       octocat');
    expect(tsh.stdout.text()).toContain('Logged into Kubernetes cluster dev.');
    const profile = JSON.parse(readFileSync(join(home, '.tsh', `${harness.proxy}.yaml`), 'utf8'));
    expect(profile).toMatchObject({ user: 'octocat', auth: 'github' });
  });

  it('uses the device flow when GitHub is the default and only --headless is given, and honours a longer interval', async () => {
    const { tsh, polls } = headless({
      onCode: (code) => {
        // GitHub answers the first poll with slow_down (interval 5 -> 10 s), then grants.
        harness.github.device(code).slowDown();
        harness.github.device(code).approve(OCTOCAT.id);
      },
    });
    await login({ proxy: harness.proxy, headless: true }, tsh.deps);
    expect(polls[0]).toBe(5000);
    expect(polls.length).toBeGreaterThanOrEqual(2);
    // Never sooner than the raised interval after the poll that raised it.
    for (let i = 1; i < polls.length; i++) expect(polls[i]! - polls[i - 1]!).toBeGreaterThanOrEqual(10_000);
    expect(tsh.stdout.text()).toContain('Logged in as:       octocat');
  });

  it('at a terminal, redraws one countdown line in place', async () => {
    const { tsh } = headless({ tty: true, onCode: (code) => harness.github.device(code).approve(OCTOCAT.id) });
    await login({ proxy: harness.proxy, headless: true }, tsh.deps);
    const stderr = tsh.stderr.text();
    for (const left of ['15:00', '14:59', '14:58', '14:57', '14:56', '14:55'])
      expect(stderr).toContain(`\r\x1b[KWaiting for approval: the code expires in ${left} (Ctrl-C cancels)`);
    // The line is finished before anything else is printed.
    expect(stderr.endsWith('(Ctrl-C cancels)\n')).toBe(true);
  });

  it('a denied request ends with one line that says what to do', async () => {
    const { tsh } = headless({ onCode: (code) => harness.github.device(code).deny() });
    await expect(login({ proxy: harness.proxy, headless: true }, tsh.deps)).rejects.toThrow(
      /^the sign-in was denied at GitHub; if that was a mistake, run tsh login --headless again$/,
    );
    expect(() => readFileSync(join(home, '.tsh', `${harness.proxy}.yaml`))).toThrow();
  });

  it('an OAuth app without the device flow is refused before any code is shown', async () => {
    harness.github.apps.get('Iv1.kubeport-test')!.deviceFlow = false;
    const { tsh } = headless();
    await expect(login({ proxy: harness.proxy, headless: true }, tsh.deps)).rejects.toThrow(
      /^headless login needs GitHub's device flow, which is not enabled for this connector's OAuth app; an admin can enable it/,
    );
    expect(tsh.stderr.text()).toBe('');
  });

  it('a code nobody approves expires: minute lines count down, then one line says what to do', async () => {
    const { tsh, polls } = headless();
    await expect(login({ proxy: harness.proxy, headless: true }, tsh.deps)).rejects.toThrow(
      /^the code [0-9A-F]{4}-[0-9A-F]{4} expired before it was approved; run .* login --headless again$/,
    );
    const lines = tsh.stderr
      .text()
      .split('\n')
      .filter((line) => line.startsWith('Waiting for approval'));
    expect(lines[0]).toBe('Waiting for approval: the code expires in 15:00 (Ctrl-C cancels)');
    expect(lines[1]).toBe('Waiting for approval: the code expires in 14:00 (Ctrl-C cancels)');
    expect(lines).toHaveLength(15);
    expect(polls.at(-1)).toBeLessThan(900_000);
  });

  it('ends cleanly on Ctrl-C while waiting', async () => {
    const { tsh } = headless({
      onCode: (_, run) => setImmediate(() => run.interrupt()),
    });
    // Real sleeps here, so Ctrl-C comes while tsh waits.
    tsh.deps.waits.sleep = (ms, signal) =>
      new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.min(ms, 50));
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()));
      });
    const failure = await login({ proxy: harness.proxy, headless: true }, tsh.deps).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InterruptedError);
    expect((failure as Error).message).toBe('login cancelled (Ctrl-C); nothing was saved');
  });
});
