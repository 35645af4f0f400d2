// Every local login path leaves its user.login event with Teleport's fields (method, connector,
// address, client, what the person was told), throttled ones included, once per limit crossed;
// each certificate leaves a cert.create with its identity and serial.
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ClientError } from '../../lib/client/api-client.js';
import { newKeyPair } from '../../lib/client/login.js';
import type { AuditEvent } from '../../lib/core/ports.js';
import { totpCode, totpStep } from '../../lib/core/totp.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';
import { searchEvents } from '../support/audit-events.js';

const PASSWORD = 'correct horse battery staple';
const TSH = 'tsh/0.1.0 (linux; x64)';

describe('user.login and cert.create events of local users', () => {
  let h: ApiHarness;
  let admin: { certPem: string; keyPem: string };
  const code = (secret: string, offset = 0) => totpCode(secret, totpStep(h.clock.now()) + offset);
  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const res = await fetch(`http://${h.proxy}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': TSH },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as T & { error?: { message: string } };
    if (!res.ok) throw new ClientError(answer.error?.message ?? 'refused', res.status);
    return answer;
  };
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: ClientError) => e,
    );
  const enroll = async (user: string) => {
    const { invite } = await new ApiClient(h.proxy, 'kubeport:kubeport-test').call<{ invite: string }>(
      'POST',
      '/webapi/admin/users',
      { name: user, roles: ['access'], kubernetes_groups: ['devs'], kubernetes_users: [`${user}-k8s`] },
      admin,
    );
    const { secret } = await post<{ secret: string }>('/webapi/local/invite/totp', { user, invite });
    await post('/webapi/local/invite/complete', {
      user,
      invite,
      password: PASSWORD,
      totp_code: code(secret),
      public_key: newKeyPair().publicKeyPem,
    });
    return secret;
  };
  const login = (user: string, password: string, totp: string) =>
    post<{ cert: string; expires: string }>('/webapi/local/login', {
      user,
      password,
      totp_code: totp,
      public_key: newKeyPair().publicKeyPem,
    });
  const events = async (event: string, user: string): Promise<AuditEvent[]> =>
    searchEvents(h.deps.audit, {
      from: new Date(h.clock.now().getTime() - 3_600_000),
      to: new Date(h.clock.now().getTime() + 3_600_000),
      event,
      user,
      limit: 100,
    });

  beforeAll(async () => {
    h = await startApiHarness();
    admin = await h.identity({ username: 'kubeport-admin', roles: ['editor'] });
  });
  afterAll(() => h.close());

  it('records a login with method, connector, address and client, and its certificate with identity and serial', async () => {
    const secret = await enroll('alice');
    const answer = await login('alice', PASSWORD, code(secret, 1));
    const logins = (await events('user.login', 'alice')).filter((e) => e.success === true);
    // The enrollment's login and this one.
    expect(logins).toHaveLength(2);
    for (const event of logins) {
      expect(event).toMatchObject({
        code: 'T1000I',
        method: 'local',
        connector_id: 'local',
        'addr.remote': '127.0.0.1',
        user_agent: TSH,
        user_roles: ['access'],
      });
    }
    const cert = new X509Certificate(answer.cert);
    const created = (await events('cert.create', 'alice')).find(
      (e) => String(e.cert_serial).toLowerCase() === cert.serialNumber.toLowerCase(),
    );
    expect(created).toMatchObject({
      code: 'TC000I',
      cert_type: 'user',
      identity: {
        user: 'alice',
        roles: ['access'],
        expires: answer.expires,
        kubernetes_cluster: '',
        kubernetes_groups: ['devs'],
        kubernetes_users: ['alice-k8s'],
        traits: expect.objectContaining({ kubernetes_groups: ['devs'], kubernetes_users: ['alice-k8s'] }),
      },
    });
    expect(Math.abs(Date.parse(answer.expires) - Date.parse(cert.validTo))).toBeLessThan(1_000);
  });

  it('records each failure with the cause and what the person was told', async () => {
    const secret = await enroll('bob');
    await failure(login('bob', 'wrong password!', code(secret, 1)));
    const [failed] = (await events('user.login', 'bob')).filter((e) => e.success === false);
    expect(failed).toMatchObject({ code: 'T1000W', method: 'local', connector_id: 'local', user_agent: TSH, 'addr.remote': '127.0.0.1' });
    expect(failed!.error).toMatch(/^invalid user name, password or TOTP code/);
    expect(failed!.message).toBe(failed!.error);
  });

  it('records a refused enrollment (a short password) as a failed login', async () => {
    const { invite } = await new ApiClient(h.proxy, 'kubeport:kubeport-test').call<{ invite: string }>(
      'POST',
      '/webapi/admin/users',
      { name: 'carol', roles: ['access'] },
      admin,
    );
    const refused = await failure(
      post('/webapi/local/invite/complete', {
        user: 'carol',
        invite,
        password: 'short',
        totp_code: '000000',
        public_key: newKeyPair().publicKeyPem,
      }),
    );
    expect(refused.status).toBe(400);
    expect((await events('user.login', 'carol')).filter((e) => e.success === false)).toEqual([
      expect.objectContaining({ error: 'password must have at least 12 characters' }),
    ]);
  });

  it('records a throttled login once per limit crossed, not once per refused try', async () => {
    const secret = await enroll('dave');
    for (let i = 0; i < 5; i++) await failure(login('dave', 'wrong password!', '000000'));
    const refused = [];
    for (let i = 0; i < 4; i++) refused.push(await failure(login('dave', PASSWORD, code(secret, 1))));
    expect(refused.map((e) => e.status)).toEqual([429, 429, 429, 429]);
    const throttled = (await events('user.login', 'dave')).filter((e) => String(e.error).startsWith('too many failed logins for dave'));
    expect(throttled).toHaveLength(1);
    expect(throttled[0]).toMatchObject({ success: false, code: 'T1000W', user_agent: TSH });
  });

  it('records a login with the right credentials that gets no certificate (a lock) as a failure with the lock’s words', async () => {
    const secret = await enroll('erin');
    await new ApiClient(h.proxy, 'kubeport:kubeport-test').call(
      'POST',
      '/webapi/admin/resources',
      {
        documents: [{ kind: 'lock', metadata: { name: 'erin-out' }, spec: { target: { user: 'erin' }, message: 'Laptop stolen.' } }],
        source: 'test',
      },
      admin,
    );
    const refused = await failure(login('erin', PASSWORD, code(secret, 1)));
    expect(refused.status).toBe(403);
    const [failed] = (await events('user.login', 'erin')).filter((e) => e.success === false);
    expect(failed!.error).toMatch(/Laptop stolen/);
    expect(failed!.message).toBe(refused.message);
  });
});
