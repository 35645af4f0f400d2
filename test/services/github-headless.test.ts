// Headless GitHub login over the device flow: the API asks GitHub for the device code and polls
// GitHub itself, once per interval whatever tsh does; tsh gets only the certificate.
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientError } from '../../lib/client/api-client.js';
import { newKeyPair } from '../../lib/client/login.js';
import { type GitHubHarness, type LoginResult, startGitHubHarness } from '../support/github-harness.js';
import { searchEvents } from '../support/audit-events.js';

type Poll = { status: 'pending'; interval: number } | { status: 'done'; login: LoginResult };

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: ClientError) => e,
  );

describe('GitHub headless login (device flow)', () => {
  let g: GitHubHarness;
  const start = async (body: Record<string, unknown> = {}) => {
    const keys = newKeyPair();
    const answer = await g.api.call<{
      request_id: string;
      user_code: string;
      verification_uri: string;
      expires_in: number;
      interval: number;
    }>('POST', '/webapi/github/login/headless', { public_key: keys.publicKeyPem, ...body });
    return { ...answer, keys };
  };
  const poll = (requestId: string) => g.api.call<Poll>('POST', '/webapi/github/login/headless/poll', { request_id: requestId });
  const tokenPolls = () => g.github.hits.get('/login/oauth/access_token') ?? 0;

  beforeAll(async () => {
    g = await startGitHubHarness();
    g.github.addUser({ id: 42, login: 'hana', teams: [{ organization: 'acme', slug: 'platform' }] });
  });
  afterAll(() => g.close());

  it('prints a code to enter at GitHub, polls GitHub once per interval, and returns the certificate, never the GitHub token', async () => {
    const started = await start({ ttl_seconds: 600 });
    expect(started.user_code).toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}$/);
    expect(started.verification_uri).toBe(`${g.github.url}/login/device`);
    expect(started).toMatchObject({ expires_in: 900, interval: 5 });
    const before = tokenPolls();
    expect(await poll(started.request_id)).toEqual({ status: 'pending', interval: 5 });
    // tsh polling faster than the interval does not make Kubeport poll GitHub faster.
    expect(await poll(started.request_id)).toEqual({ status: 'pending', interval: 5 });
    expect(await poll(started.request_id)).toEqual({ status: 'pending', interval: 5 });
    expect(tokenPolls()).toBe(before + 1);
    g.github.device(started.user_code).approve(42);
    // The state store keeps whole seconds, rounded up: the gate opens within a second after the interval.
    g.h.clock.advance(6000);
    const done = await g.api.call<Poll>('POST', '/webapi/github/login/headless/poll', { request_id: started.request_id });
    expect(done.status).toBe('done');
    const login = (done as { login: LoginResult }).login;
    expect(JSON.stringify(done)).not.toMatch(/gho_/);
    expect(login.username).toBe('hana');
    expect(login.traits.github_teams).toEqual(['acme/platform']);
    const cert = new X509Certificate(login.cert);
    expect(cert.publicKey.export({ type: 'spki', format: 'der' }).equals(started.keys.publicKeyDer)).toBe(true);
    expect(Date.parse(login.expires)).toBe(g.h.clock.now().getTime() + 600_000);
    // Finished: the request id opens nothing more.
    expect((await refusal(poll(started.request_id))).message).toContain('unknown, finished or expired');
  });

  it('slows down when GitHub says slow_down, by GitHub’s new interval', async () => {
    const started = await start();
    g.github.device(started.user_code).slowDown();
    expect(await poll(started.request_id)).toEqual({ status: 'pending', interval: 10 });
    const before = tokenPolls();
    g.h.clock.advance(5000);
    expect(await poll(started.request_id)).toEqual({ status: 'pending', interval: 10 });
    expect(tokenPolls()).toBe(before);
    g.h.clock.advance(6000);
    expect(await poll(started.request_id)).toEqual({ status: 'pending', interval: 10 });
    // The stand-in answers slow_down to any poll faster than its interval: none came.
    expect(tokenPolls()).toBe(before + 1);
  });

  it('a denial at GitHub ends the login with a message and an audit event', async () => {
    const started = await start();
    g.github.device(started.user_code).deny();
    const e = await refusal(poll(started.request_id));
    expect(e.status).toBe(403);
    expect(e.message).toBe('the sign-in was denied at GitHub; if that was a mistake, run tsh login --headless again');
    const failures = await searchEvents(g.h.deps.audit, {
      from: new Date(Date.now() - 86_400_000),
      to: new Date(Date.now() + 86_400_000),
      event: 'user.login',
    });
    const denied = failures.find((f) => f.success === false && String(f.error).includes('denied at GitHub'));
    expect(denied).toMatchObject({ code: 'T1001W', method: 'github', connector_id: 'github', message: denied!.error });
    expect(denied!['addr.remote']).toBeTruthy();
    expect(denied!.user_agent).toBeTruthy();
  });

  it('a code not entered in time expires', async () => {
    const started = await start();
    g.h.clock.advance(901_000);
    const e = await refusal(poll(started.request_id));
    expect(e.status).toBe(401);
    expect(e.message).toContain('run tsh login --headless again');
  });

  it('a user in no mapped team is refused as in the browser login', async () => {
    g.github.addUser({ id: 43, login: 'ida', teams: [{ organization: 'acme', slug: 'sales' }] });
    const started = await start();
    g.github.device(started.user_code).approve(43);
    const e = await refusal(poll(started.request_id));
    expect(e.message).toContain('user ida does not belong to any teams configured in connector github (your teams: acme/sales)');
  });

  it('a locked user gets no certificate: the poll ends with the lock’s message', async () => {
    g.github.addUser({ id: 44, login: 'lars', teams: [{ organization: 'acme', slug: 'platform' }] });
    const lock = {
      kind: 'lock',
      version: 'v2',
      metadata: { name: 'lars-out' },
      spec: { target: { user: 'lars' }, message: 'Lost laptop.' },
    };
    await g.admin('POST', '/webapi/admin/resources', { documents: [lock] });
    const started = await start();
    g.github.device(started.user_code).approve(44);
    const e = await refusal(poll(started.request_id));
    expect([e.status, e.message]).toEqual([403, 'lock targeting User:"lars" is in force: Lost laptop.']);
    await g.admin('DELETE', '/webapi/admin/resources/lock/lars-out');
  });

  it('refuses cleanly when the OAuth app does not have the device flow enabled', async () => {
    [...g.github.apps.values()][0]!.deviceFlow = false;
    try {
      const e = await refusal(start());
      expect(e.status).toBe(400);
      expect(e.message).toContain("headless login needs GitHub's device flow, which is not enabled for this connector's OAuth app");
    } finally {
      [...g.github.apps.values()][0]!.deviceFlow = true;
    }
  });

  it('refuses a malformed request id', async () => {
    const e = await refusal(poll('../../etc'));
    expect(e.status).toBe(400);
  });
});
