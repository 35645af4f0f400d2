// Invites, enrollment and password + TOTP login over the real HTTP API and embedded DynamoDB.
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ClientError } from '../../lib/client/api-client.js';
import { newKeyPair } from '../../lib/client/login.js';
import { totpCode, totpStep } from '../../lib/core/totp.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';
import { searchEvents } from '../support/audit-events.js';

const PASSWORD = 'correct horse battery staple';
const LOGIN_FAILURE = 'invalid user name, password or TOTP code (each code works once: if you just used it, wait for the next one)';

describe('local users', () => {
  let h: ApiHarness;
  let api: ApiClient;
  let admin: { certPem: string; keyPem: string };
  const code = (secret: string, offset = 0) => totpCode(secret, totpStep(h.clock.now()) + offset);
  const invite = async (name: string, roles = ['access']) => {
    const answer = await new ApiClient(h.proxy, 'kubeport:kubeport-test').call<{ invite: string }>(
      'POST',
      '/webapi/admin/users',
      { name, roles, kubernetes_groups: ['devs'] },
      admin,
    );
    return answer.invite;
  };
  const enroll = async (user: string, token: string, options: { password?: string; offset?: number } = {}) => {
    const { secret } = await api.call<{ secret: string }>('POST', '/webapi/local/invite/totp', { user, invite: token });
    const keys = newKeyPair();
    const answer = await api.call<{ cert: string }>('POST', '/webapi/local/invite/complete', {
      user,
      invite: token,
      password: options.password ?? PASSWORD,
      totp_code: code(secret, options.offset),
      public_key: keys.publicKeyPem,
    });
    return { secret, cert: answer.cert, keys };
  };
  const login = (user: string, password: string, totp: string, ttl?: number) =>
    api.call<{ cert: string; expires: string }>('POST', '/webapi/local/login', {
      user,
      password,
      totp_code: totp,
      public_key: newKeyPair().publicKeyPem,
      ...(ttl ? { ttl_seconds: ttl } : {}),
    });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: ClientError) => e,
    );

  beforeAll(async () => {
    h = await startApiHarness();
    api = new ApiClient(h.proxy);
    admin = await h.identity({ username: 'kubeport-admin', roles: ['editor'] });
  });
  afterAll(() => h.close());

  it("enrolls with an invite, issues a certificate for the client key with the user's identity", async () => {
    const { cert, keys } = await enroll('alice', await invite('alice'));
    const x509 = new X509Certificate(cert);
    expect(x509.subject).toBe('CN=alice\nO=access');
    expect(x509.publicKey.export({ type: 'spki', format: 'der' }).equals(keys.publicKeyDer)).toBe(true);
    expect(x509.checkIssued(new X509Certificate(h.userCa.certPem))).toBe(true);
  });

  it('an invite works once, even when two enrollments race', async () => {
    const token = await invite('bob');
    const { secret } = await api.call<{ secret: string }>('POST', '/webapi/local/invite/totp', { user: 'bob', invite: token });
    const attempt = () =>
      api
        .call('POST', '/webapi/local/invite/complete', {
          user: 'bob',
          invite: token,
          password: PASSWORD,
          totp_code: code(secret),
          public_key: newKeyPair().publicKeyPem,
        })
        .then(
          () => 'ok',
          (e: ClientError) => e.message,
        );
    const results = await Promise.all([attempt(), attempt()]);
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.find((r) => r !== 'ok')).toMatch(/invite is invalid, expired or already used|already used/);
    const third = await failure(api.call('POST', '/webapi/local/invite/totp', { user: 'bob', invite: token }));
    expect(third.message).toContain('invite is invalid, expired or already used');
  });

  it('an invite expires after an hour and is bound to its user', async () => {
    const token = await invite('carol');
    expect((await failure(api.call('POST', '/webapi/local/invite/totp', { user: 'mallory', invite: token }))).status).toBe(401);
    h.clock.advance(61 * 60_000);
    try {
      expect((await failure(api.call('POST', '/webapi/local/invite/totp', { user: 'carol', invite: token }))).message).toContain(
        'invite is invalid, expired',
      );
    } finally {
      h.clock.advance(-61 * 60_000);
    }
  });

  it('refuses a short password and a wrong code at enrollment without using up the invite', async () => {
    const token = await invite('dave');
    expect((await failure(enroll('dave', token, { password: 'short' }))).message).toBe('password must have at least 12 characters');
    expect((await failure(enroll('dave', token, { offset: 5 }))).message).toContain('invalid TOTP code');
    await enroll('dave', token);
  });

  it('logs in with password and code; a code is accepted once; TTL follows the roles', async () => {
    const { secret } = await enroll('erin', await invite('erin'));
    expect((await failure(login('erin', PASSWORD, code(secret)))).message).toBe(LOGIN_FAILURE);
    const answer = await login('erin', PASSWORD, code(secret, 1), 100 * 3600);
    const lifetime = new Date(new X509Certificate(answer.cert).validTo).getTime() - h.clock.now().getTime();
    expect(Math.round(lifetime / 3_600_000)).toBe(30);
    expect((await failure(login('erin', PASSWORD, code(secret, 1)))).message).toBe(LOGIN_FAILURE);
  });

  it('answers the same for an unknown user, a wrong password and a wrong code, and audits each', async () => {
    const { secret } = await enroll('frank', await invite('frank'));
    const messages = await Promise.all([
      failure(login('nobody', PASSWORD, '123456')),
      failure(login('frank', 'wrong password!', code(secret, 1))),
      failure(login('frank', PASSWORD, '000000')),
    ]);
    expect(new Set(messages.map((m) => m.message))).toEqual(new Set([LOGIN_FAILURE]));
    const events = await searchEvents(h.deps.audit, {
      from: new Date(Date.now() - 3_600_000),
      to: new Date(Date.now() + 3_600_000),
      event: 'user.login',
      user: 'frank',
    });
    expect(events.filter((e) => e.success === false).length).toBeGreaterThanOrEqual(2);
    expect(events.find((e) => e.success === false)).toMatchObject({ code: 'T1000W', method: 'local' });
  });

  it('answers a used code the same whether the password was right or wrong', async () => {
    const { secret } = await enroll('judy', await invite('judy'));
    const used = code(secret, 1);
    await login('judy', PASSWORD, used);
    const raw = async (password: string) => {
      const response = await fetch(`http://${h.proxy}/webapi/local/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'judy', password, totp_code: used, public_key: newKeyPair().publicKeyPem }),
      });
      return { status: response.status, body: await response.text() };
    };
    const wrongPassword = await raw('wrong password!');
    const rightPassword = await raw(PASSWORD);
    expect(rightPassword).toEqual(wrongPassword);
    expect(JSON.parse(rightPassword.body)).toEqual({ error: { code: 'unauthenticated', message: LOGIN_FAILURE } });
  });

  it('throttles invite enrollment per source, audits admitted tries and the first refusal only, and never locks the user out of login', async () => {
    const { secret } = await enroll('ivan', await invite('ivan'));
    const at = h.clock.now();
    // Forty guesses with made-up invites for a real user's name, on both enrollment calls.
    const results: ClientError[] = [];
    for (let i = 0; i < 40; i++) {
      const bogus = `guess-${i}`;
      results.push(
        await failure(
          i % 2 === 0
            ? api.call('POST', '/webapi/local/invite/totp', { user: 'ivan', invite: bogus })
            : api.call('POST', '/webapi/local/invite/complete', {
                user: 'ivan',
                invite: bogus,
                password: 'a long enough guess',
                totp_code: '123456',
                public_key: newKeyPair().publicKeyPem,
              }),
        ),
      );
    }
    expect(results.filter((e) => e.status === 401).length).toBeLessThanOrEqual(10);
    expect(results.slice(-2).map((e) => e.status)).toEqual([429, 429]);
    expect(results.at(-1)!.message).toMatch(/^too many invite enrollment attempts for ivan; try again in \d+m$/);
    const events = await searchEvents(h.deps.audit, {
      from: new Date(at.getTime() - 1000),
      to: new Date(at.getTime() + 1000),
      event: 'user.login',
      user: 'ivan',
    });
    // The refusals after the first repeat it: one event says the limit was reached.
    const refusals = events.filter((e) => String(e.error).startsWith('too many invite enrollment attempts'));
    expect(refusals).toHaveLength(1);
    expect(events.filter((e) => e.success === false).length - refusals.length).toBeLessThanOrEqual(10);
    // Ivan mistypes a code once, then logs in: the failed invites counted nothing against him.
    expect((await failure(login('ivan', PASSWORD, '000000'))).status).toBe(401);
    expect((await login('ivan', PASSWORD, code(secret, 1))).cert).toContain('BEGIN CERTIFICATE');
  });

  it('counts parallel guesses before checking them, so at most the limit get through', async () => {
    await enroll('heidi', await invite('heidi'));
    const results = await Promise.all(Array.from({ length: 20 }, () => failure(login('heidi', 'wrong password!', '000000'))));
    expect(results.filter((e) => e.status === 401).length).toBeLessThanOrEqual(5);
    expect(results.filter((e) => e.status === 429).length).toBeGreaterThanOrEqual(15);
  });

  it('slows repeated failures with 429 and a retry time, without locking the user out from a clean source', async () => {
    const { secret } = await enroll('grace', await invite('grace'));
    for (let i = 0; i < 5; i++) await failure(login('grace', 'wrong password!', '000000'));
    const limited = await failure(login('grace', PASSWORD, code(secret, 1)));
    expect(limited.status).toBe(429);
    expect(limited.message).toMatch(/^too many failed logins for grace; try again in 15m or ask an admin to run: tctl users unlock grace$/);
    // Another source (the harness sees every client as 127.0.0.1, so count a different one directly).
    const { LoginThrottle } = await import('../../lib/services/login-throttle.js');
    const throttle = new LoginThrottle(h.deps.state, h.deps.clock);
    await expect(throttle.admit('grace', '192.0.2.7')).resolves.toBeUndefined();
    h.clock.advance(16 * 60_000);
    const after = await login('grace', PASSWORD, code(secret, 1));
    expect(after.cert).toContain('BEGIN CERTIFICATE');
  });
});

describe('login sources', () => {
  it('groups IPv6 addresses by /64 and keeps IPv4 as it is', async () => {
    const { sourceBucket } = await import('../../lib/core/source-bucket.js');
    expect(sourceBucket('203.0.113.9')).toBe('203.0.113.9');
    expect(sourceBucket('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(sourceBucket('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(sourceBucket('2001:db8:1:2::7')).toBe(sourceBucket('2001:0db8:0001:0002:ffff::1'));
    expect(sourceBucket('::1')).toBe('0:0:0:0::/64');
  });
});
