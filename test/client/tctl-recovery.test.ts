// The admin's ways out of a user's mistakes, tctl in this process against the real API: reset a
// user who lost the password or authenticator, unlock one who failed too many logins.
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ClientError } from '../../lib/client/api-client.js';
import { run as usersReset } from '../../lib/client/commands/tctl-users-reset.js';
import { run as usersUnlock } from '../../lib/client/commands/tctl-users-unlock.js';
import { newKeyPair } from '../../lib/client/login.js';
import { totpCode, totpStep } from '../../lib/core/totp.js';
import type { User } from '../../lib/core/resources.js';
import { LoginThrottle } from '../../lib/services/login-throttle.js';
import { type ClientHarness, startClientHarness, tctlRun } from './client-harness.js';
import { searchEvents } from '../support/audit-events.js';

const PASSWORD = 'correct horse battery staple';

describe('tctl users reset and unlock', () => {
  let h: ClientHarness;
  let api: ApiClient;
  const code = (secret: string, offset = 0) => totpCode(secret, totpStep(h.clock.now()) + offset);
  const enroll = async (user: string, invite: string) => {
    const { secret } = await api.call<{ secret: string }>('POST', '/webapi/local/invite/totp', { user, invite });
    const answer = await api.call<{ cert: string }>('POST', '/webapi/local/invite/complete', {
      user,
      invite,
      password: PASSWORD,
      totp_code: code(secret),
      public_key: newKeyPair().publicKeyPem,
    });
    return { secret, cert: answer.cert };
  };
  const login = (user: string, password: string, totp: string) =>
    api.call<{ cert: string }>('POST', '/webapi/local/login', { user, password, totp_code: totp, public_key: newKeyPair().publicKeyPem });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: ClientError) => e,
    );
  const events = (event: string) =>
    searchEvents(h.deps.audit, {
      from: new Date(h.clock.now().getTime() - 3_600_000),
      to: new Date(h.clock.now().getTime() + 1000),
      event,
    });

  beforeAll(async () => {
    h = await startClientHarness();
    api = new ApiClient(h.proxy);
  });
  afterAll(() => h?.close());

  it('reset clears password and TOTP, ends earlier certificates and prints a new invite; the old invite names reset', async () => {
    const firstInvite = await h.addUser('bob', { roles: ['access'] });
    const { secret, cert } = await enroll('bob', firstInvite);
    // The used invite's refusal tells the user what the admin has to run.
    const reused = await failure(api.call('POST', '/webapi/local/invite/totp', { user: 'bob', invite: firstInvite }));
    expect(reused.message).toBe(
      'invite is invalid, expired or already used; ask an admin for a new one (tctl users reset bob, or tctl users add bob if there is no such user)',
    );

    h.clock.advance(60_000);
    const reset = tctlRun(h);
    await usersReset({ name: 'bob' }, reset.deps);
    const printed = reset.stdout.text();
    expect(printed).toMatch(
      /^User "bob" has been reset: the password and TOTP are cleared and earlier certificates no longer work\. The invite is valid until \S+ \S+ local \[valid for (59m\d+s|1h)\] and works once\.\nShare this command with bob:\n\n {2}npx tsh login --proxy=\S+ --user=bob --invite=[0-9a-f]+\n\n$/,
    );
    const newInvite = /--invite=([0-9a-f]+)/.exec(printed)![1]!;

    // The old password and authenticator open nothing now.
    expect((await failure(login('bob', PASSWORD, code(secret, 1)))).status).toBe(401);
    // Certificates issued before the reset are revoked.
    const stored = (await h.deps.resources.get<User>('user', 'bob'))!.body;
    expect(Date.parse(stored.spec.revoked_before!)).toBeGreaterThan(Date.parse(new X509Certificate(cert).validFrom));
    // The new invite enrolls with a new secret.
    const again = await enroll('bob', newInvite);
    expect(again.secret).not.toBe(secret);
    expect((await events('user.reset')).map((e) => [e.user, e.name])).toEqual([['kubeport-admin', 'bob']]);

    await expect(usersReset({ name: 'nobody' }, tctlRun(h).deps)).rejects.toThrow(
      'user nobody not found; add it with tctl users add nobody',
    );
  });

  it('reset ends an invite not yet used and its pending enrollment', async () => {
    const firstInvite = await h.addUser('erin', { roles: ['access'] });
    const { secret } = await api.call<{ secret: string }>('POST', '/webapi/local/invite/totp', { user: 'erin', invite: firstInvite });
    const reset = tctlRun(h);
    await usersReset({ name: 'erin' }, reset.deps);
    const completing = await failure(
      api.call('POST', '/webapi/local/invite/complete', {
        user: 'erin',
        invite: firstInvite,
        password: PASSWORD,
        totp_code: code(secret),
        public_key: newKeyPair().publicKeyPem,
      }),
    );
    expect(completing.message).toBe(
      'invite is invalid, expired or already used; ask an admin for a new one (tctl users reset erin, or tctl users add erin if there is no such user)',
    );
    await enroll('erin', /--invite=([0-9a-f]+)/.exec(reset.stdout.text())![1]!);
  });

  it('a user locked out after failed logins is told the time left and the way out; unlock lets the user in at once', async () => {
    const { secret } = await enroll('carol', await h.addUser('carol', { roles: ['access'] }));
    for (let i = 0; i < 5; i++) expect((await failure(login('carol', 'wrong password!', '000000'))).status).toBe(401);
    const locked = await failure(login('carol', PASSWORD, code(secret, 1)));
    expect(locked.status).toBe(429);
    expect(locked.message).toBe('too many failed logins for carol; try again in 15m or ask an admin to run: tctl users unlock carol');

    const unlock = tctlRun(h);
    await usersUnlock({ name: 'carol' }, unlock.deps);
    expect(unlock.stdout.text()).toBe('User "carol" has been unlocked (5 failed logins cleared) and may log in again.\n');
    expect((await login('carol', PASSWORD, code(secret, 1))).cert).toContain('BEGIN CERTIFICATE');
    expect((await events('user.unlock')).map((e) => [e.user, e.name])).toEqual([['kubeport-admin', 'carol']]);
    await expect(usersUnlock({ name: 'nobody' }, tctlRun(h).deps)).rejects.toThrow('user nobody not found');
    // A second unlock finds nothing counted and says so, instead of claiming an unlock.
    const again = tctlRun(h);
    await usersUnlock({ name: 'carol' }, again.deps);
    expect(again.stdout.text()).toBe(
      'User "carol" had no failed logins counted; nothing was locked by failures, and any wait for this user at any address is cleared anyway.\n',
    );
  });

  it("unlock also clears the user's failures counted from every source", async () => {
    const { secret } = await enroll('dave', await h.addUser('dave', { roles: ['access'] }));
    // Thirty failures from many addresses lock dave out for any address that has tried him.
    const throttle = new LoginThrottle(h.deps.state, h.deps.clock);
    for (let i = 0; i < 30; i++) {
      await throttle.admit('dave', `198.51.100.${i}`);
      await throttle.recordFailure('dave');
    }
    await expect(throttle.admit('dave', '198.51.100.1')).rejects.toThrow('too many failed logins for dave');
    await usersUnlock({ name: 'dave' }, tctlRun(h).deps);
    await expect(throttle.admit('dave', '198.51.100.1')).resolves.toBeUndefined();
    expect((await login('dave', PASSWORD, code(secret, 1))).cert).toContain('BEGIN CERTIFICATE');
  });
});
