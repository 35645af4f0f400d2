// Invites against `tctl users rm` and `add`: an invite or credentials left by an earlier user of
// a name must open nothing for the next one. Over the real HTTP API and embedded DynamoDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ClientError } from '../../lib/client/api-client.js';
import { newKeyPair } from '../../lib/client/login.js';
import { hashPassword } from '../../lib/core/password.js';
import type { User } from '../../lib/core/resources.js';
import { newTotpSecret, totpCode, totpStep } from '../../lib/core/totp.js';
import { LocalInvites } from '../../lib/services/local-invites.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';

const PASSWORD = 'correct horse battery staple';
const ATTACKER_PASSWORD = 'the attacker chose this one';

describe('invites across removal and re-creation of a user', () => {
  let h: ApiHarness;
  let api: ApiClient;
  let tctl: ApiClient;
  let admin: { certPem: string; keyPem: string };
  const code = (secret: string, offset = 0) => totpCode(secret, totpStep(h.clock.now()) + offset);
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: ClientError) => e,
    );
  const addUser = async (name: string, roles = ['access']) =>
    (await tctl.call<{ invite: string }>('POST', '/webapi/admin/users', { name, roles }, admin)).invite;
  const removeUser = (name: string) => tctl.call('DELETE', `/webapi/admin/users/${name}`, undefined, admin);
  const startEnrollment = (user: string, invite: string) =>
    api.call<{ secret: string }>('POST', '/webapi/local/invite/totp', { user, invite });
  const completeEnrollment = (user: string, invite: string, password: string, totp: string, keys = newKeyPair()) =>
    api.call<{ cert: string }>('POST', '/webapi/local/invite/complete', {
      user,
      invite,
      password,
      totp_code: totp,
      public_key: keys.publicKeyPem,
    });
  const login = (user: string, password: string, totp: string) =>
    api.call<{ cert: string; roles: string[] }>('POST', '/webapi/local/login', {
      user,
      password,
      totp_code: totp,
      public_key: newKeyPair().publicKeyPem,
    });
  const incarnation = async (name: string) => (await h.deps.resources.get<User>('user', name))?.body.spec.created_by?.incarnation;
  const clusters = (identity: { certPem: string; keyPem: string }) => tctl.call('GET', '/webapi/kube/clusters', undefined, identity);

  beforeAll(async () => {
    h = await startApiHarness();
    api = new ApiClient(h.proxy);
    tctl = new ApiClient(h.proxy, 'kubeport:kubeport-test');
    admin = await h.identity({ username: 'kubeport-admin', roles: ['editor'] });
  });
  afterAll(() => h.close());

  it('the invite of a removed user stores nothing, and gives nothing to the next user of the name', async () => {
    const leaked = await addUser('bob');
    await removeUser('bob');
    // The attack: enroll with the leaked invite now, wait for an admin to add "bob" again as editor.
    const started = await startEnrollment('bob', leaked).then(
      () => undefined,
      (e: ClientError) => e,
    );
    expect(started?.status).toBe(401);
    expect(started?.message).toContain('invite is invalid, expired or already used');
    const completed = await failure(completeEnrollment('bob', leaked, ATTACKER_PASSWORD, '123456'));
    expect(completed.status).toBe(401);
    expect(await h.deps.resources.get('local_credentials', 'bob')).toBeUndefined();
    const fresh = await addUser('bob', ['editor']);
    expect((await failure(login('bob', ATTACKER_PASSWORD, '123456'))).status).toBe(401);
    expect((await failure(startEnrollment('bob', leaked))).status).toBe(401);
    // The new invite works for the new bob.
    const { secret } = await startEnrollment('bob', fresh);
    await completeEnrollment('bob', fresh, PASSWORD, code(secret));
  });

  it('an invite made for an earlier user of the name is refused even when it escaped deletion', async () => {
    await addUser('carol');
    const earlier = await incarnation('carol');
    expect(earlier).toMatch(/^[0-9a-f]{32}$/);
    await removeUser('carol');
    await addUser('carol');
    expect(await incarnation('carol')).not.toBe(earlier);
    // As if removal had crashed between deleting the user and deleting its invites.
    const { token } = await new LocalInvites(h.deps).create('carol', earlier);
    const refused = await failure(startEnrollment('carol', token));
    expect(refused.status).toBe(401);
    expect(refused.message).toContain('invite is invalid, expired or already used');
    expect(await h.deps.resources.get('local_credentials', 'carol')).toBeUndefined();
  });

  it('retrying an invite shows the same TOTP secret until the invite is used; a new invite gets a new one', async () => {
    const invite = await addUser('judy');
    const first = await startEnrollment('judy', invite);
    // tsh login retried much later (a wrong password, a closed terminal): the authenticator entry still holds.
    h.clock.advance(50 * 60_000);
    try {
      const again = await startEnrollment('judy', invite);
      expect(again.secret).toBe(first.secret);
      await completeEnrollment('judy', invite, PASSWORD, code(first.secret));
    } finally {
      h.clock.advance(-50 * 60_000);
    }
    await removeUser('judy');
    const next = await addUser('judy');
    expect((await startEnrollment('judy', next)).secret).not.toBe(first.secret);
  });

  it("tctl users rm deletes the user's invites, pending enrollment and credentials", async () => {
    const invites = new LocalInvites(h.deps);
    const pending = await addUser('dave');
    await startEnrollment('dave', pending);
    expect(await invites.pendingEnrollment(pending)).toBeDefined();
    await removeUser('dave');
    expect(await invites.get(pending)).toBeUndefined();
    expect(await invites.pendingEnrollment(pending)).toBeUndefined();

    const used = await addUser('erin');
    const { secret } = await startEnrollment('erin', used);
    await completeEnrollment('erin', used, PASSWORD, code(secret));
    expect(await h.deps.resources.get('local_credentials', 'erin')).toBeDefined();
    await removeUser('erin');
    expect(await h.deps.resources.get('local_credentials', 'erin')).toBeUndefined();
    expect(await h.deps.resources.get('local_invites', 'erin')).toBeUndefined();
  });

  it('tctl users add over leftover credentials and invites of the name starts clean', async () => {
    // What a removal before this fix (or one interrupted half way) leaves behind.
    const plantedSecret = newTotpSecret(h.deps.random);
    await h.deps.resources.put('local_credentials', 'frank', {
      password_hash: await hashPassword(ATTACKER_PASSWORD, h.deps.random),
      totp_secret_sealed: await h.deps.secrets.seal(plantedSecret),
      last_totp_step: 0,
    });
    const { token: plantedInvite } = await new LocalInvites(h.deps).create('frank', undefined);
    await addUser('frank', ['editor']);
    expect((await failure(login('frank', ATTACKER_PASSWORD, code(plantedSecret)))).status).toBe(401);
    expect((await failure(startEnrollment('frank', plantedInvite))).status).toBe(401);
    expect(await h.deps.resources.get('local_credentials', 'frank')).toBeUndefined();
  });

  it('tctl create keeps the incarnation across changes, makes a new one for a new user, and never takes it from the document', async () => {
    const create = (name: string, incarnation: string, overwrite: boolean) =>
      tctl.call(
        'POST',
        '/webapi/admin/resources',
        { document: { kind: 'user', metadata: { name }, spec: { roles: ['access'], created_by: { incarnation } } }, overwrite },
        admin,
      );
    const invite = await addUser('heidi');
    const before = await incarnation('heidi');
    await create('heidi', 'forged', true);
    expect(await incarnation('heidi')).toBe(before);
    // A change of roles or traits leaves the pending invite usable.
    const { secret } = await startEnrollment('heidi', invite);
    await completeEnrollment('heidi', invite, PASSWORD, code(secret));

    // A user created from a document over leftovers of the name: the leftovers open nothing.
    const plantedSecret = newTotpSecret(h.deps.random);
    await h.deps.resources.put('local_credentials', 'ivy', {
      password_hash: await hashPassword(ATTACKER_PASSWORD, h.deps.random),
      totp_secret_sealed: await h.deps.secrets.seal(plantedSecret),
      last_totp_step: 0,
      incarnation: 'forged',
    });
    await create('ivy', 'forged', false);
    expect(await incarnation('ivy')).toMatch(/^[0-9a-f]{32}$/);
    expect((await failure(login('ivy', ATTACKER_PASSWORD, code(plantedSecret)))).status).toBe(401);
    expect(await h.deps.resources.get('local_credentials', 'ivy')).toBeUndefined();
  });

  it('finishing enrollment revokes the certificates issued for the name before it', async () => {
    const invite = await addUser('grace');
    const earlier = await h.identity({ username: 'grace', roles: ['access'] });
    await clusters(earlier);
    const { secret } = await startEnrollment('grace', invite);
    const keys = newKeyPair();
    const enrolled = await completeEnrollment('grace', invite, PASSWORD, code(secret), keys);
    const refused = await failure(clusters(earlier));
    expect(refused.status).toBe(401);
    expect(refused.message).toContain('your certificate was revoked');
    // The certificate enrollment returned, in the same millisecond, works.
    await clusters({ certPem: enrolled.cert, keyPem: keys.privateKeyPem });
  });
});
