// Locks at the API, not only at the agent: a locked identity can neither call tctl's API (and so
// not remove its own lock) nor get a new certificate; the local admin identity stays able to
// remove locks; the server, not the document, says who created a lock and when.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ClientError } from '../../lib/client/api-client.js';
import { newKeyPair } from '../../lib/client/login.js';
import { KubeportError } from '../../lib/core/errors.js';
import type { Lock } from '../../lib/core/lock.js';
import type { User } from '../../lib/core/resources.js';
import { totpCode, totpStep } from '../../lib/core/totp.js';
import { issueCertificateFor } from '../../lib/services/issue-certificate.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';

const PASSWORD = 'correct horse battery staple';

describe('locks at the API', () => {
  let h: ApiHarness;
  let signed: ApiClient;
  let admin: { certPem: string; keyPem: string };
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: ClientError) => e,
    );
  const createLock = (name: string, spec: Record<string, unknown>, as = admin) =>
    signed.call('POST', '/webapi/admin/resources', { documents: [{ kind: 'lock', version: 'v2', metadata: { name }, spec }] }, as);
  const storedLocks = async () => (await h.deps.resources.list<Lock>('lock')).map((r) => r.body);

  beforeAll(async () => {
    h = await startApiHarness();
    signed = new ApiClient(h.proxy, 'kubeport:kubeport-test');
    admin = await h.identity({ username: 'kubeport-admin', roles: ['editor'] });
  });
  afterAll(() => h.close());

  it('a locked editor is refused every admin call and cannot remove its own lock; the admin identity can', async () => {
    await signed.call('POST', '/webapi/admin/users', { name: 'mallory', roles: ['editor'] }, admin);
    const mallory = await h.identity({ username: 'mallory', roles: ['editor'], connector: 'local' });
    await createLock('l1', { target: { user: 'mallory' }, message: 'compromised' });
    const message = 'lock targeting User:"mallory" is in force: compromised';
    const listed = await failure(signed.call('GET', '/webapi/admin/resources/lock', undefined, mallory));
    expect([listed.status, listed.serverCode, listed.message]).toEqual([403, 'access_denied', message]);
    const removal = await failure(signed.call('DELETE', '/webapi/admin/resources/lock/l1', undefined, mallory));
    expect([removal.status, removal.message]).toEqual([403, message]);
    expect((await failure(createLock('l2', { target: { user: 'alice' } }, mallory))).message).toBe(message);
    expect((await storedLocks()).map((l) => l.metadata.name)).toEqual(['l1']);
    await signed.call('DELETE', '/webapi/admin/resources/lock/l1', undefined, admin);
    expect((await signed.call<{ items: unknown[] }>('GET', '/webapi/admin/resources/lock', undefined, mallory)).items).toEqual([]);
  });

  it('a lock on the editor role shuts out stored editors but not the local admin identity, which removes it; it lapses at its expiry', async () => {
    await signed.call('POST', '/webapi/admin/users', { name: 'ed', roles: ['editor'] }, admin);
    const ed = await h.identity({ username: 'ed', roles: ['editor'], connector: 'local' });
    await createLock('editors', { target: { role: 'editor' }, expires: new Date(h.clock.now().getTime() + 60_000).toISOString() });
    expect((await failure(signed.call('GET', '/webapi/admin/users', undefined, ed))).message).toBe(
      'lock targeting Role:"editor" is in force',
    );
    expect((await signed.call<{ items: unknown[] }>('GET', '/webapi/admin/resources/lock', undefined, admin)).items).toHaveLength(1);
    h.clock.advance(61_000);
    await signed.call('GET', '/webapi/admin/users', undefined, ed);
    // An expired lock lapses when the next one is written.
    await createLock('editors-again', { target: { role: 'editor' } });
    expect((await storedLocks()).map((l) => l.metadata.name)).toEqual(['editors-again']);
    await signed.call('DELETE', '/webapi/admin/resources/lock/editors-again', undefined, admin);
    await signed.call('GET', '/webapi/admin/users', undefined, ed);
  });

  it('refuses a lock on the local admin identity, so nobody is left unable to remove locks', async () => {
    const refused = await failure(createLock('admin', { target: { user: 'kubeport-admin' } }));
    expect(refused.status).toBe(400);
    expect(refused.message).toContain('targets kubeport-admin, the local admin identity, which must stay able to remove locks');
    expect(await storedLocks()).toEqual([]);
  });

  it('a locked user gets no new certificate: local login is refused with the lock message', async () => {
    const { invite } = await signed.call<{ invite: string }>('POST', '/webapi/admin/users', { name: 'lena', roles: ['access'] }, admin);
    const api = new ApiClient(h.proxy);
    const { secret } = await api.call<{ secret: string }>('POST', '/webapi/local/invite/totp', { user: 'lena', invite });
    const code = (offset: number) => totpCode(secret, totpStep(h.clock.now()) + offset);
    const publicKey = () => newKeyPair().publicKeyPem;
    await api.call('POST', '/webapi/local/invite/complete', {
      user: 'lena',
      invite,
      password: PASSWORD,
      totp_code: code(0),
      public_key: publicKey(),
    });
    await createLock('lena', { target: { user: 'lena' }, message: 'Suspicious activity.' });
    const login = (totp: string) =>
      api.call('POST', '/webapi/local/login', { user: 'lena', password: PASSWORD, totp_code: totp, public_key: publicKey() });
    const refused = await failure(login(code(1)));
    expect([refused.status, refused.message]).toEqual([403, 'lock targeting User:"lena" is in force: Suspicious activity.']);
    await signed.call('DELETE', '/webapi/admin/resources/lock/lena', undefined, admin);
    h.clock.advance(30_000);
    await login(code(1));
  });

  it('refuses certificate issuance for every connector (GitHub and headless sign-in issue through it)', async () => {
    await createLock('gh', { target: { login: 'root' } });
    const user = {
      kind: 'user',
      version: 'v2',
      metadata: { name: 'octo' },
      spec: { roles: ['access'], traits: { logins: ['root'] } },
    } as unknown as User;
    const refused = await issueCertificateFor(h.deps, user, new Uint8Array(newKeyPair().publicKeyDer), undefined, 'github').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(KubeportError);
    expect([(refused as KubeportError).code, (refused as KubeportError).message]).toEqual([
      'access_denied',
      'lock targeting Login:"root" is in force',
    ]);
    await signed.call('DELETE', '/webapi/admin/resources/lock/gh', undefined, admin);
  });

  it('sets created_by to the caller and created_at to now, whatever the document says', async () => {
    await signed.call('POST', '/webapi/admin/users', { name: 'carol', roles: ['editor'] }, admin);
    const carol = await h.identity({ username: 'carol', roles: ['editor'], connector: 'local' });
    await createLock('forged', { target: { user: 'alice' }, created_by: 'kubeport-admin', created_at: '2020-01-01T00:00:00Z' }, carol);
    const [lock] = await storedLocks();
    expect([lock?.spec.created_by, lock?.spec.created_at]).toEqual(['carol', h.clock.now().toISOString()]);
    await signed.call('DELETE', '/webapi/admin/resources/lock/forged', undefined, admin);
  });
});
