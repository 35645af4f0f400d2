// GitHub browser login end to end: tsh's console request, a scripted browser through the GitHub
// stand-in's authorize page and the API's callback, to tsh's loopback listener; success, every
// failure, and the attacks the login must withstand.
import { X509Certificate, createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitHubHttpApi } from '../../lib/adapters/github/github-http-api.js';
import type { ClientError } from '../../lib/client/api-client.js';
import type { AuditEvent } from '../../lib/core/ports.js';
import { CLIENT_ID, CLIENT_SECRET, type GitHubHarness, startGitHubHarness } from '../support/github-harness.js';
import { browse } from '../support/scripted-browser.js';
import { searchEvents } from '../support/audit-events.js';

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: ClientError) => e,
  );

describe('GitHub browser login', () => {
  let g: GitHubHarness;
  let nextId = 100;
  /** A GitHub user signed in at the stand-in. */
  const signIn = (login: string, teams: { organization: string; slug: string }[], id = nextId++) => {
    g.github.addUser({ id, login, teams });
    g.github.signedIn = id;
    return id;
  };
  const logins = async (success: boolean) =>
    (
      await searchEvents(g.h.deps.audit, {
        from: new Date(Date.now() - 86_400_000),
        to: new Date(Date.now() + 86_400_000),
        event: 'user.login',
      })
    ).filter((e: AuditEvent) => e.success === success);

  beforeAll(async () => {
    g = await startGitHubHarness();
  });
  afterAll(() => g.close());
  beforeEach(() => {
    g.github.consent = 'approve';
  });

  it('signs in through GitHub and hands tsh a certificate for its key, sealed for it, with roles and traits from the teams', async () => {
    signIn('mona', [
      { organization: 'acme', slug: 'platform' },
      { organization: 'acme', slug: 'sre' },
      { organization: 'other', slug: 'platform' },
    ]);
    const { landing, login, publicKeyDer } = await g.browserLogin();
    // console -> GitHub authorize -> API callback -> (meta refresh) tsh's listener
    expect(landing.hops.map((u) => new URL(u).pathname)).toEqual(['/login/oauth/authorize', '/webapi/github/callback', '/callback']);
    expect(landing.body).toContain('you may close this tab');
    expect(login!.username).toBe('mona');
    expect(login!.roles.sort()).toEqual(['access', 'dev']);
    expect(login!.traits).toEqual({
      github_teams: ['acme/platform', 'acme/sre', 'other/platform'],
      logins: ['mona'],
      kubernetes_groups: ['system:masters'],
      kubernetes_users: [],
    });
    const cert = new X509Certificate(login!.cert);
    expect(cert.subject).toBe('CN=mona\nO=access + O=dev');
    expect(cert.publicKey.export({ type: 'spki', format: 'der' }).equals(publicKeyDer)).toBe(true);
    expect(cert.checkIssued(new X509Certificate(g.h.userCa.certPem))).toBe(true);
    const [event] = (await logins(true)).filter((e) => e.user === 'mona');
    expect(event).toMatchObject({ code: 'T1001I', method: 'github', connector_id: 'github', github_login: 'mona' });
    expect(event!['addr.remote']).toBeTruthy();
    expect(event!.user_agent).toBeTruthy();
    // The user the login made is audited as Teleport audits an SSO user's creation.
    const created = await searchEvents(g.h.deps.audit, {
      from: new Date(Date.now() - 86_400_000),
      to: new Date(Date.now() + 86_400_000),
      event: 'user.create',
      user: 'mona',
    });
    expect(created).toEqual([
      expect.objectContaining({ code: 'T1002I', name: 'mona', connector: 'github', roles: expect.arrayContaining(['access', 'dev']) }),
    ]);
  });

  it('sends the authorize request GitHub expects: read:org, a random state and a PKCE S256 challenge', async () => {
    const { authorizeUrl } = await g.startConsole();
    const url = new URL(authorizeUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${g.github.url}/login/oauth/authorize`);
    const q = url.searchParams;
    expect(q.get('client_id')).toBe(CLIENT_ID);
    expect(q.get('redirect_uri')).toBe(`http://${g.h.proxy}/webapi/github/callback`);
    expect(q.get('scope')).toBe('read:org');
    expect(q.get('state')).toMatch(/^[0-9a-f]{64}$/);
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('code_challenge_method')).toBe('S256');
  });

  it('ping announces the GitHub connector as the default, with local users still offered', async () => {
    const ping = await g.api.call<{ auth: Record<string, unknown> }>('GET', '/webapi/ping');
    expect(ping.auth).toMatchObject({
      type: 'github',
      github: { name: 'github', display: 'GitHub (stand-in)' },
      connectors: [
        { type: 'github', name: 'github', display: 'GitHub (stand-in)' },
        { type: 'local', name: 'local', display: 'Local users' },
      ],
      allow_headless: true,
    });
  });

  it('stores the client secret sealed and never returns it (tctl get github, tctl get github/NAME)', async () => {
    const stored = await g.h.deps.resources.get('github', 'github');
    expect(JSON.stringify(stored)).not.toContain(CLIENT_SECRET);
    const one = await g.admin<{ items: { spec: Record<string, unknown> }[] }>('GET', '/webapi/admin/resources/github/github');
    const all = await g.admin<{ items: { spec: Record<string, unknown> }[] }>('GET', '/webapi/admin/resources/github');
    for (const item of [...one.items, ...all.items]) {
      expect(JSON.stringify(item)).not.toContain(CLIENT_SECRET);
      expect(item.spec).not.toHaveProperty('client_secret_sealed');
      expect(item.spec.client_id).toBe(CLIENT_ID);
    }
  });

  it('an update without the secret (a tctl get round trip) keeps the stored one; a new connector without one is refused', async () => {
    const [shown] = (await g.admin<{ items: unknown[] }>('GET', '/webapi/admin/resources/github/github')).items;
    await g.admin('POST', '/webapi/admin/resources', { document: shown, overwrite: true });
    signIn('roundtrip', [{ organization: 'acme', slug: 'platform' }]);
    expect((await g.browserLogin()).login?.username).toBe('roundtrip');
    const fresh = { ...(shown as object), metadata: { name: 'nosecret' } };
    const e = await refusal(g.admin('POST', '/webapi/admin/resources', { document: fresh }));
    expect(e.message).toContain("spec.client_secret: a new connector needs its OAuth app's client secret");
  });

  it('caps the TTL at the roles’ max_session_ttl (as Teleport caps a login) and says so in expires', async () => {
    signIn('ttl-user', [{ organization: 'acme', slug: 'platform' }]);
    const { login } = await g.browserLogin({ ttlSeconds: 24 * 3600 });
    const cert = new X509Certificate(login!.cert);
    const lifetime = Date.parse(cert.validTo) - Date.parse(g.h.clock.now().toISOString());
    expect(lifetime).toBeLessThanOrEqual(3_600_000 + 1000);
    expect(lifetime).toBeGreaterThan(3_600_000 - 2000);
    expect(Date.parse(login!.expires)).toBe(g.h.clock.now().getTime() + 3_600_000);
  });

  it('a repeat login that changes nothing leaves the user as it is (no write, earlier certificates stay valid)', async () => {
    signIn('steady', [{ organization: 'acme', slug: 'platform' }]);
    await g.browserLogin();
    const before = await g.h.deps.resources.get('user', 'steady');
    await g.browserLogin();
    expect((await g.h.deps.resources.get('user', 'steady'))!.revision).toBe(before!.revision);
  });

  it('a login with other teams revokes the certificates issued before it (they carry the old roles)', async () => {
    const id = signIn('mover', [{ organization: 'acme', slug: 'platform' }]);
    await g.browserLogin();
    const revokedAt = async () =>
      Date.parse((await g.h.deps.resources.get<{ spec: { revoked_before: string } }>('user', 'mover'))!.body.spec.revoked_before);
    const afterFirst = await revokedAt();
    g.github.users.get(id)!.teams = [{ organization: 'acme', slug: 'sre' }];
    g.h.clock.advance(1000);
    const second = await g.browserLogin();
    expect(second.login?.roles).toEqual(['access']);
    // Certificates issued at or before revoked_before are refused (user-standing.ts).
    expect(await revokedAt()).toBe(afterFirst + 1000);
  });

  it('a renamed GitHub login keeps its account (keyed by the GitHub id); the logins trait follows the new name', async () => {
    const id = signIn('carol', [{ organization: 'acme', slug: 'platform' }]);
    expect((await g.browserLogin()).login?.username).toBe('carol');
    g.github.users.get(id)!.login = 'carol-new';
    const { login } = await g.browserLogin();
    expect(login?.username).toBe('carol');
    expect(login?.traits.logins).toEqual(['carol-new']);
  });

  describe('failures: a page for the person, one line for tsh, an audit event with the reason', () => {
    const expectFailure = async (text: string) => {
      const { landing, err, login } = await g.browserLogin();
      expect(login).toBeUndefined();
      expect(err).toContain(text);
      // The person's page before the hand-over says the same.
      const callbackPage = await fetch(landing.hops[1]!, { redirect: 'manual' });
      expect(callbackPage.status).toBe(400); // the state was used: what a replay sees
      const failures = await logins(false);
      expect(failures.some((e) => String(e.error).includes(text))).toBe(true);
      return err!;
    };

    it('denied consent at GitHub', async () => {
      signIn('denier', [{ organization: 'acme', slug: 'platform' }]);
      g.github.consent = 'deny';
      await expectFailure('you did not authorize the Kubeport app at GitHub; run tsh login again');
    });

    it('a user in no team at all is told both causes and what to do, in one line', async () => {
      signIn('loner', []);
      const err = await expectFailure(
        'your GitHub account loner belongs to no team that Kubeport can see: either you are in no team, or your organization has not approved the Kubeport OAuth app (ask an owner of the organization to approve it); then run tsh login again',
      );
      expect(err).not.toContain('\n');
    });

    it('a user in no mapped team: the message names the connector and the user’s teams', async () => {
      signIn('outsider', [
        { organization: 'acme', slug: 'marketing' },
        { organization: 'acm', slug: 'platform' },
      ]);
      const err = await expectFailure('user outsider does not belong to any teams configured in connector github');
      expect(err).toContain('your teams: acme/marketing, acm/platform');
    });

    it('a locked user gets no certificate: the lock’s message, in Teleport’s words', async () => {
      const lock = {
        kind: 'lock',
        version: 'v2',
        metadata: { name: 'lucy-out' },
        spec: { target: { user: 'lucy' }, message: 'Lost laptop.' },
      };
      await g.admin('POST', '/webapi/admin/resources', { documents: [lock] });
      signIn('lucy', [{ organization: 'acme', slug: 'platform' }]);
      await expectFailure('lock targeting User:"lucy" is in force: Lost laptop.');
      await g.admin('DELETE', '/webapi/admin/resources/lock/lucy-out');
      expect((await g.browserLogin()).login?.username).toBe('lucy');
    });

    it('a local user of the same name is never taken over', async () => {
      await g.admin('POST', '/webapi/admin/users', { name: 'bob', roles: ['access'] });
      signIn('bob', [{ organization: 'acme', slug: 'platform' }]);
      await expectFailure('a user named bob already exists and is not a GitHub user');
      const stored = await g.h.deps.resources.get<{ spec: { created_by: { connector: string } } }>('user', 'bob');
      expect(stored!.body.spec.created_by.connector).toBe('local');
    });

    it('another GitHub account that reuses a freed login does not get the first account', async () => {
      const first = signIn('dave', [{ organization: 'acme', slug: 'platform' }]);
      expect((await g.browserLogin()).login?.username).toBe('dave');
      g.github.users.get(first)!.login = 'dave-renamed';
      signIn('dave', [{ organization: 'acme', slug: 'platform' }]);
      await expectFailure('Kubeport user dave belongs to another GitHub account');
    });

    it('wrong client credentials in the connector: tells the person an admin must fix the connector', async () => {
      const [shown] = (await g.admin<{ items: { spec: object }[] }>('GET', '/webapi/admin/resources/github/github')).items;
      await g.admin('POST', '/webapi/admin/resources', {
        document: { ...shown, metadata: { name: 'broken' }, spec: { ...shown!.spec, client_secret: 'wrong' } },
      });
      signIn('victim', [{ organization: 'acme', slug: 'platform' }]);
      const started = await g.startConsole({ connector: 'broken' });
      const landing = await browse(started.authorizeUrl);
      expect(g.read(landing.url, started.secretKey).err).toContain(
        "GitHub refused the OAuth app's client_id or client_secret; an admin must fix the github connector",
      );
    });

    it('escapes what GitHub sends back in the page', async () => {
      const started = await g.startConsole();
      const state = new URL(started.authorizeUrl).searchParams.get('state')!;
      const page = await fetch(
        `http://${g.h.proxy}/webapi/github/callback?state=${state}&error=server_error&error_description=${encodeURIComponent('<script>alert(1)</script>')}`,
      );
      const body = await page.text();
      expect(body).not.toContain('<script>');
      expect(body).toContain('&#60;script&#62;');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    });
  });

  describe('attacks', () => {
    /** The callback URL GitHub sends the browser to, without following it. */
    const authorize = async (authorizeUrl: string) => {
      const answer = await fetch(authorizeUrl, { redirect: 'manual' });
      return new URL(answer.headers.get('location')!);
    };

    it('a replayed callback (same state) is refused and audited', async () => {
      signIn('replay', [{ organization: 'acme', slug: 'platform' }]);
      const started = await g.startConsole();
      const callback = await authorize(started.authorizeUrl);
      expect(g.read((await browse(callback.toString())).url, started.secretKey).login?.username).toBe('replay');
      const again = await browse(callback.toString());
      expect(again.status).toBe(400);
      expect(again.body).toContain('this sign-in link has expired or was already used');
      expect((await logins(false)).some((e) => String(e.error).startsWith('login state missing, expired or already used'))).toBe(true);
    });

    it("the callback also answers at Teleport's path, for an OAuth app set up for Teleport", async () => {
      signIn('teleport-path', [{ organization: 'acme', slug: 'platform' }]);
      const started = await g.startConsole();
      const callback = await authorize(started.authorizeUrl);
      callback.pathname = '/v1/webapi/github/callback';
      expect(g.read((await browse(callback.toString())).url, started.secretKey).login?.username).toBe('teleport-path');
    });

    it('a state older than 10 minutes is refused', async () => {
      signIn('slow', [{ organization: 'acme', slug: 'platform' }]);
      const started = await g.startConsole();
      const callback = await authorize(started.authorizeUrl);
      g.h.clock.advance(10 * 60_000 + 1000);
      const landing = await browse(callback.toString());
      expect(landing.status).toBe(400);
      expect(landing.body).toContain('expired or was already used');
    });

    it('a code used once does not work again with a new state', async () => {
      signIn('reuse', [{ organization: 'acme', slug: 'platform' }]);
      const first = await g.startConsole();
      const callback = await authorize(first.authorizeUrl);
      expect(g.read((await browse(callback.toString())).url, first.secretKey).login).toBeDefined();
      const second = await g.startConsole();
      const forged = new URL(callback);
      forged.searchParams.set('state', new URL(second.authorizeUrl).searchParams.get('state')!);
      expect(g.read((await browse(forged.toString())).url, second.secretKey).err).toContain('GitHub refused the sign-in code');
    });

    it("an attacker's own code injected into a victim's login fails PKCE (the verifier is the victim's)", async () => {
      signIn('attacker', [{ organization: 'acme', slug: 'platform' }]);
      const attackers = await authorize((await g.startConsole()).authorizeUrl);
      const victim = await g.startConsole();
      const injected = new URL(attackers);
      injected.searchParams.set('state', new URL(victim.authorizeUrl).searchParams.get('state')!);
      expect(g.read((await browse(injected.toString())).url, victim.secretKey).err).toContain('GitHub refused the sign-in code');
    });

    it('a code issued to another OAuth app (and so its token) cannot enter: the exchange with our app fails', async () => {
      // Kubeport only ever uses the token it got by exchanging a code with its own client_id
      // and secret; a code (or token) of another app cannot get past that exchange.
      g.github.addApp({ clientId: 'Iv1.otherapp', clientSecret: 'other', callbackUrl: `http://${g.h.proxy}/webapi/github/callback` });
      signIn('other-app-user', [{ organization: 'acme', slug: 'platform' }]);
      const started = await g.startConsole();
      const ours = new URL(started.authorizeUrl);
      ours.searchParams.set('client_id', 'Iv1.otherapp');
      const callback = await authorize(ours.toString());
      expect(callback.searchParams.get('code')).toBeTruthy();
      expect(g.read((await browse(callback.toString())).url, started.secretKey).err).toContain('GitHub refused the sign-in code');
    });

    it.each([
      'http://evil.example.com:5000/callback?secret_key=' + 'a'.repeat(64),
      'http://127.0.0.1@evil.example.com/callback?secret_key=' + 'a'.repeat(64),
      'https://evil.example.com/callback?secret_key=' + 'a'.repeat(64),
      'http://127.0.0.1:5000/callback?secret_key=' + 'a'.repeat(64) + '&next=http://evil.example.com',
      'http://127.0.0.1:5000/steal?secret_key=' + 'a'.repeat(64),
      'http://127.0.0.1:5000/callback',
    ])('refuses the client redirect %s', async (redirectUrl) => {
      const e = await refusal(g.startConsole({ redirectUrl }));
      expect(e.status).toBe(400);
      expect(e.message).toContain('tsh sends http://127.0.0.1:PORT/callback?secret_key=<64 hex digits>');
    });

    it('refuses to read past the page cap of /user/teams, and reads every page up to it', async () => {
      const paged = await startGitHubHarness({ perPage: 2, maxPages: 3 });
      try {
        const teams = (n: number) => [
          ...Array.from({ length: n - 1 }, (_, i) => ({ organization: 'acme', slug: `team-${i}` })),
          { organization: 'acme', slug: 'platform' },
        ];
        paged.github.addUser({ id: 1, login: 'six', teams: teams(6) });
        paged.github.signedIn = 1;
        expect((await paged.browserLogin()).login?.username).toBe('six');
        paged.github.addUser({ id: 2, login: 'seven', teams: teams(7) });
        paged.github.signedIn = 2;
        expect((await paged.browserLogin()).err).toContain('you belong to more GitHub teams than Kubeport reads (3 pages of 2)');
      } finally {
        await paged.close();
      }
    });

    it('does not send the GitHub token to a next-page link on another origin', async () => {
      g.github.addUser({ id: 999, login: 'many', teams: Array.from({ length: 150 }, (_, i) => ({ organization: 'o', slug: `t${i}` })) });
      g.github.signedIn = 999;
      const verifier = 'v'.repeat(43);
      const authorizeUrl = new URL(`${g.github.url}/login/oauth/authorize`);
      authorizeUrl.search = new URLSearchParams({
        client_id: CLIENT_ID,
        state: 's',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      const code = (await authorize(authorizeUrl.toString())).searchParams.get('code')!;
      const api = new GitHubHttpApi();
      const app = { endpointUrl: g.github.url, apiEndpointUrl: g.github.apiUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
      const token = await api.exchangeCode(app, {
        code,
        redirectUri: `http://${g.h.proxy}/webapi/github/callback`,
        codeVerifier: verifier,
      });
      expect((await api.teams(app, token)).length).toBe(150);
      // Reached as localhost, the stand-in's next links name 127.0.0.1: another origin.
      const before = g.github.hits.get('/user/teams') ?? 0;
      const e = await refusal(api.teams({ ...app, apiEndpointUrl: app.apiEndpointUrl.replace('127.0.0.1', 'localhost') }, token));
      expect(e.message).toContain("GitHub's next page of teams points away from http://localhost");
      expect(g.github.hits.get('/user/teams')).toBe(before + 1);
    });
  });
});
