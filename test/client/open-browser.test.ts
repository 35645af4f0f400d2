// How tsh opens the browser: $BROWSER first, else the platform's opener; the URL is one argument
// (no shell reads its `&`), and a missing opener is not an error.
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authorizeUrl } from '../../lib/client/browser-login.js';
import { browserCommand, systemBrowserOpener } from '../../lib/client/open-browser.js';

const url = 'https://github.com/login/oauth/authorize?client_id=abc&state=x y&scope=read:org';

describe('opening the browser', () => {
  it('uses the first entry of $BROWSER, else open, rundll32 or xdg-open by platform', () => {
    expect(browserCommand(url, { BROWSER: '/usr/bin/firefox:/usr/bin/chromium' }, 'linux')).toEqual({
      command: '/usr/bin/firefox',
      args: [url],
    });
    expect(browserCommand(url, {}, 'darwin')).toEqual({ command: 'open', args: [url] });
    expect(browserCommand(url, { DISPLAY: ':0' }, 'linux')).toEqual({ command: 'xdg-open', args: [url] });
    expect(browserCommand(url, {}, 'win32')).toEqual({ command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] });
    expect(browserCommand(url, { BROWSER: '', WAYLAND_DISPLAY: 'wayland-0' }, 'freebsd')).toEqual({ command: 'xdg-open', args: [url] });
  });

  it('opens nothing on Linux and BSD without a desktop (an SSH session) unless $BROWSER says how', () => {
    expect(browserCommand(url, {}, 'linux')).toBeUndefined();
    expect(browserCommand(url, { BROWSER: 'w3m' }, 'linux')).toEqual({ command: 'w3m', args: [url] });
  });

  it('hands the URL, & and spaces included, as one argument to the program in $BROWSER', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeport-browser-'));
    const record = join(dir, 'opened');
    const script = join(dir, 'browser.sh');
    // Written aside and renamed, so the test never reads half a file.
    writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$#" "$1" > '${record}.tmp' && mv '${record}.tmp' '${record}'\n`);
    chmodSync(script, 0o755);
    systemBrowserOpener({ BROWSER: script })(url);
    for (let i = 0; i < 100 && !existsSync(record); i++) await new Promise((r) => setTimeout(r, 20));
    expect(readFileSync(record, 'utf8')).toBe(`1\n${url}\n`);
  });

  it('does not throw when no opener exists', () => {
    expect(() => systemBrowserOpener({ BROWSER: '/nonexistent/browser' })(url)).not.toThrow();
  });
});

describe('the sign-in URL the proxy answers', () => {
  it('is opened only when it is a web address', () => {
    const good = 'https://github.com/login/oauth/authorize?client_id=abc&state=s';
    expect(authorizeUrl({ redirect_url: good })).toBe(good);
    for (const bad of ['file:///etc/passwd', 'javascript:alert(1)', 'ssh://host', 'https://x/ y', '', undefined, 42]) {
      expect(() => authorizeUrl({ redirect_url: bad })).toThrow(
        'the proxy answered the GitHub login request without a web address to sign in at; is --proxy a Kubeport proxy?',
      );
    }
  });
});
