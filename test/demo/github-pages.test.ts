// The demo GitHub's pages for a person (lib/demo/github), against the real server on loopback:
// the sign-in form continues the OAuth redirect only with the demo password, refuses posts from
// another site, escapes what it echoes, and approves or denies a device code.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubStandIn } from '../../lib/demo/github/github-server.js';
import { DEMO_GITHUB_USERS } from '../../lib/demo/github/demo-github.js';

const PASSWORD = 'demo-password-for-tests';
const CALLBACK = 'http://127.0.0.1:9/webapi/github/callback';

describe('the demo GitHub sign-in pages', () => {
  let github: GitHubStandIn;
  // GitHub's clock; each device poll steps it past the polling interval.
  let now = Date.now();
  beforeAll(async () => {
    github = await GitHubStandIn.start({ password: PASSWORD, now: () => now });
    github.addApp({ clientId: 'demo-app', clientSecret: 'demo-secret', callbackUrl: CALLBACK });
    for (const user of DEMO_GITHUB_USERS) github.addUser(user);
  });
  afterAll(() => github?.close());

  const verifier = 'v'.repeat(43);
  const authorizeQuery = (state: string) =>
    new URLSearchParams({
      client_id: 'demo-app',
      redirect_uri: CALLBACK,
      state,
      scope: 'read:org',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });

  function post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
    return fetch(`${github.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: github.url, 'sec-fetch-site': 'same-origin', ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  }

  async function exchange(code: string) {
    const response = await fetch(`${github.url}/login/oauth/access_token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'demo-app', client_secret: 'demo-secret', code, code_verifier: verifier, redirect_uri: CALLBACK }),
    });
    return (await response.json()) as { access_token?: string; error?: string };
  }

  it('shows a sign-in form to nobody signed in, carrying the request; the right password continues the redirect with a code and the state', async () => {
    const query = authorizeQuery('state-1');
    const page = await fetch(`${github.url}/login/oauth/authorize?${query}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<form method="post" action="/login/oauth/authorize">');
    expect(html).toContain('dana (acme/developers)');
    expect(html).toContain('finn (no team)');
    expect(html).toContain('<input type="hidden" name="state" value="state-1">');
    expect(page.headers.get('x-frame-options')).toBe('DENY');

    const signIn = await post('/login/oauth/authorize', {
      ...Object.fromEntries(query),
      user_id: '1001',
      password: PASSWORD,
      decision: 'approve',
    });
    expect(signIn.status).toBe(302);
    const back = new URL(signIn.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
    expect(back.searchParams.get('state')).toBe('state-1');
    // The code works once, with the PKCE verifier, and the token is dana's.
    const token = await exchange(back.searchParams.get('code')!);
    const user = await fetch(`${github.apiUrl}/user`, { headers: { authorization: `token ${token.access_token}` } });
    expect(((await user.json()) as { login: string }).login).toBe('dana');
  });

  it('a wrong or missing password shows the form again (403) with a message, and issues no code', async () => {
    const query = authorizeQuery('state-2');
    for (const password of ['wrong', '', `${PASSWORD}x`]) {
      const response = await post('/login/oauth/authorize', {
        ...Object.fromEntries(query),
        user_id: '1001',
        password,
        decision: 'approve',
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('location')).toBeNull();
      const html = await response.text();
      expect(html).toContain('The demo password is wrong');
      expect(html).toContain('<input type="hidden" name="state" value="state-2">');
    }
  });

  it('Cancel with the password sends access_denied back with the state', async () => {
    const response = await post('/login/oauth/authorize', {
      ...Object.fromEntries(authorizeQuery('state-3')),
      password: PASSWORD,
      decision: 'deny',
    });
    const back = new URL(response.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('state-3');
  });

  it('refuses a post from another site (Origin or Sec-Fetch-Site) or under another host name, even with the password', async () => {
    const fields = { ...Object.fromEntries(authorizeQuery('state-4')), user_id: '1001', password: PASSWORD, decision: 'approve' };
    const crossSite: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of crossSite) {
      const response = await post('/login/oauth/authorize', fields, headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(await response.text()).toContain('posted from another site');
    }
    // DNS rebinding: a site whose name now points at 127.0.0.1 posts as same-origin under its own name.
    const rebound = await post('/login/oauth/authorize', fields, { origin: 'http://rebind.example:80', host: 'rebind.example' });
    expect(rebound.status).toBe(403);
    const device = await post(
      '/login/device',
      { user_code: 'ABCD-EFGH', user_id: '1001', password: PASSWORD },
      { origin: 'http://evil.example' },
    );
    expect(device.status).toBe(403);
  });

  it('escapes what it echoes: the state in the sign-in form and the user code in the device form', async () => {
    const query = authorizeQuery('"><script>alert(1)</script>');
    const html = await (await fetch(`${github.url}/login/oauth/authorize?${query}`)).text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('value="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;"');
    const device = await (await fetch(`${github.url}/login/device?user_code=${encodeURIComponent('<img src=x>')}`)).text();
    expect(device).not.toContain('<img');
    expect(device).toContain('&#60;img src=x&#62;');
  });

  it('device flow: the code page approves with the password (the poll then gets a token) and denies', async () => {
    const start = async () => {
      const response = await fetch(`${github.url}/login/device/code`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'demo-app', scope: 'read:org' }),
      });
      return (await response.json()) as { device_code: string; user_code: string; verification_uri: string };
    };
    const poll = async (deviceCode: string) => {
      now += 10_000;
      const response = await fetch(`${github.url}/login/oauth/access_token`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: 'demo-app',
          device_code: deviceCode,
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        }),
      });
      return (await response.json()) as { access_token?: string; error?: string };
    };
    const first = await start();
    expect(first.verification_uri).toBe(`${github.url}/login/device`);
    const form = await (await fetch(first.verification_uri)).text();
    expect(form).toContain('<form method="post" action="/login/device">');

    const wrong = await post('/login/device', { user_code: first.user_code, user_id: '1002', password: 'nope', decision: 'approve' });
    expect(wrong.status).toBe(403);
    expect((await poll(first.device_code)).error).toBe('authorization_pending');

    // Lower case is what a person may type; the code is matched as GitHub shows it.
    const approved = await post('/login/device', {
      user_code: first.user_code.toLowerCase(),
      user_id: '1002',
      password: PASSWORD,
      decision: 'approve',
    });
    expect(approved.status).toBe(200);
    expect(await approved.text()).toContain('Your device is connected');
    const token = (await poll(first.device_code)).access_token!;
    const user = await fetch(`${github.apiUrl}/user`, { headers: { authorization: `token ${token}` } });
    expect(((await user.json()) as { login: string }).login).toBe('erik');

    const second = await start();
    const denied = await post('/login/device', { user_code: second.user_code, password: PASSWORD, decision: 'deny' });
    expect(await denied.text()).toContain('The device was denied');
    expect((await poll(second.device_code)).error).toBe('access_denied');

    // Typed without the hyphen, in lower case, or with a space for the hyphen: still the code, as at GitHub.
    for (const typed of [(code: string) => code.replace('-', '').toLowerCase(), (code: string) => ` ${code.replace('-', ' ')} `]) {
      const started = await start();
      const answer = await post('/login/device', {
        user_code: typed(started.user_code),
        user_id: '1002',
        password: PASSWORD,
        decision: 'approve',
      });
      expect(answer.status).toBe(200);
      expect(await answer.text()).toContain('Your device is connected');
      expect((await poll(started.device_code)).access_token).toBeTruthy();
    }
    const unknown = await post('/login/device', { user_code: 'ZZZZ-ZZZZ', user_id: '1001', password: PASSWORD, decision: 'approve' });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('No waiting device has the code ZZZZ-ZZZZ');
  });

  it('without a password (tests) the scripted behaviour stays: nobody signed in means access_denied, and no pages are served', async () => {
    const scripted = await GitHubStandIn.start();
    try {
      scripted.addApp({ clientId: 'demo-app', clientSecret: 'demo-secret', callbackUrl: CALLBACK });
      const response = await fetch(`${scripted.url}/login/oauth/authorize?${authorizeQuery('s')}`, { redirect: 'manual' });
      expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
      expect((await fetch(`${scripted.url}/login/device`)).status).toBe(404);
    } finally {
      await scripted.close();
    }
  });
});
