// tctl's API: signed requests that try to be replayed, altered, forged or escalated.
import { CompactSign, importPKCS8 } from 'jose';
import { X509Certificate, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ClientError } from '../../lib/client/api-client.js';
import { SIGNED_REQUEST_HEADER, bodyDigest } from '../../lib/core/signed-request.js';
import { newCa } from '../support/agent-harness.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';

describe('admin API', () => {
  let h: ApiHarness;
  let admin: { certPem: string; keyPem: string };
  let signed: ApiClient;
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: ClientError) => e,
    );

  async function token(
    identity: { certPem: string; keyPem: string },
    claims: Record<string, unknown>,
    header: Record<string, unknown> = {},
  ) {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      aud: 'kubeport:kubeport-test',
      method: 'GET',
      path: '/webapi/admin/users',
      body_sha256: bodyDigest(''),
      iat: now,
      exp: now + 60,
      jti: randomBytes(16).toString('hex'),
      ...claims,
    };
    const x5c = [new X509Certificate(identity.certPem).raw.toString('base64')];
    return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'ES256', x5c, ...header })
      .sign(await importPKCS8(identity.keyPem, 'ES256'));
  }
  const send = (jws: string | undefined, method = 'GET', path = '/webapi/admin/users', body?: string) =>
    fetch(`http://${h.proxy}${path}`, {
      method,
      headers: { ...(jws ? { [SIGNED_REQUEST_HEADER]: jws } : {}), 'content-type': 'application/json' },
      ...(body ? { body } : {}),
    });

  beforeAll(async () => {
    h = await startApiHarness();
    admin = await h.identity({ username: 'kubeport-admin', roles: ['editor'] });
    signed = new ApiClient(h.proxy, 'kubeport:kubeport-test');
  });
  afterAll(() => h.close());

  it('serves a correctly signed call once, and refuses its replay', async () => {
    const jws = await token(admin, {});
    expect((await send(jws)).status).toBe(200);
    const replay = await send(jws);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({
      error: { code: 'unauthenticated', message: 'request signature was already used (replay refused)' },
    });
  });

  it.each([
    ['no signature', async () => undefined, /needs a signed request/],
    ['another path', async () => token(admin, { path: '/webapi/admin/resources/role' }), /another path/],
    ['another method', async () => token(admin, { method: 'DELETE' }), /another method/],
    ['another audience', async () => token(admin, { aud: 'kubeport:elsewhere' }), /signed for kubeport:elsewhere/],
    [
      'an expired signature',
      async () => token(admin, { iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 3540 }),
      /expired/,
    ],
    [
      'a certificate from a foreign CA',
      async () => token(await h.identity({ username: 'kubeport-admin' }, { ca: await newCa('Kubeport user CA', h.clock) }), {}),
      /not signed by the Kubeport user CA/,
    ],
    [
      "a key that is not the certificate's",
      async () => token({ certPem: admin.certPem, keyPem: (await h.identity({ username: 'x' })).keyPem }, {}),
      /does not verify/,
    ],
    ['an expired certificate', async () => token(await h.identity({ username: 'kubeport-admin' }, { ttlMs: -3_600_000 }), {}), /expired/],
  ])('refuses %s with 401', async (_name, make, message) => {
    const response = await send(await make());
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(message);
  });

  it('refuses a signature over another body', async () => {
    const jws = await token(admin, {
      method: 'POST',
      path: '/webapi/admin/users',
      body_sha256: bodyDigest('{"name":"a","roles":["access"]}'),
    });
    const response = await send(jws, 'POST', '/webapi/admin/users', '{"name":"a","roles":["editor"]}');
    expect(response.status).toBe(401);
    expect(await h.deps.resources.get('user', 'a')).toBeUndefined();
  });

  it('refuses callers whose roles do not allow the change', async () => {
    await signed.call('POST', '/webapi/admin/users', { name: 'alice', roles: ['access'] }, admin);
    const alice = await h.identity({ username: 'alice', roles: ['access'] });
    const refused = await failure(signed.call('POST', '/webapi/admin/users', { name: 'eve', roles: ['editor'] }, alice));
    expect(refused.status).toBe(403);
    expect(refused.message).toBe(
      'your roles (access) do not allow create on user; an admin can add a rule {resources: [user], verbs: [create]} to one of your roles',
    );
    expect(await h.deps.resources.get('user', 'eve')).toBeUndefined();
    // Reset, unlock and the status counts are the admin's too: alice cannot reset herself a new invite.
    for (const [method, path] of [
      ['POST', '/webapi/admin/users/alice/reset'],
      ['POST', '/webapi/admin/users/alice/unlock'],
      ['GET', '/webapi/admin/status'],
    ] as const) {
      const denied = await failure(signed.call(method, path, method === 'POST' ? {} : undefined, alice));
      expect(denied.status, path).toBe(403);
    }
  });

  it('creates roles from documents and names the field and the fix for bad ones, changing nothing', async () => {
    const bad = await failure(
      signed.call(
        'POST',
        '/webapi/admin/resources',
        {
          document: { kind: 'role', version: 'v7', metadata: { name: 'ops' }, spec: { options: { max_session_ttl: 'soon' } } },
          source: 'ops.yaml',
        },
        admin,
      ),
    );
    expect(bad.status).toBe(400);
    expect(bad.message).toBe(
      'ops.yaml has a problem; nothing was changed:\nops.yaml, document 1 (role "ops"): spec.options.max_session_ttl: write a duration like 8h or 30m',
    );
    expect(await h.deps.resources.get('role', 'ops')).toBeUndefined();
    await signed.call(
      'POST',
      '/webapi/admin/resources',
      {
        document: { kind: 'role', version: 'v7', metadata: { name: 'ops' }, spec: { allow: { kubernetes_labels: { env: 'prod' } } } },
        source: 'ops.yaml',
      },
      admin,
    );
    const again = await failure(
      signed.call(
        'POST',
        '/webapi/admin/resources',
        { document: { kind: 'role', metadata: { name: 'ops' }, spec: {} }, source: 'ops.yaml' },
        admin,
      ),
    );
    expect(again.status).toBe(409);
    const roles = await signed.call<{ items: { metadata: { name: string } }[] }>('GET', '/webapi/admin/resources/role', undefined, admin);
    expect(roles.items.map((r) => r.metadata.name).sort()).toEqual(['access', 'auditor', 'editor', 'ops']);
  });

  it('refuses users with unknown roles and duplicate names', async () => {
    expect((await failure(signed.call('POST', '/webapi/admin/users', { name: 'zed', roles: ['root'] }, admin))).message).toBe(
      'role root does not exist; known roles: access, auditor, editor, ops',
    );
    await signed.call('POST', '/webapi/admin/users', { name: 'zed', roles: ['access'] }, admin);
    const duplicate = await failure(signed.call('POST', '/webapi/admin/users', { name: 'zed', roles: ['access'] }, admin));
    expect(duplicate.status).toBe(409);
    expect(duplicate.message).toBe('user zed already exists; to give them a new invite, run tctl users reset zed');
  });

  it.each([
    ['a web page (Origin header)', { origin: 'https://evil.example', 'content-type': 'application/json' }],
    ['DNS rebinding (a foreign Host)', { host: 'evil.example:3080', 'content-type': 'application/json' }],
    ['a form post (not JSON)', { 'content-type': 'text/plain' }],
  ])('the local API refuses %s and changes nothing', async (_name, headers) => {
    const { request } = await import('node:http');
    const [host, port] = h.proxy.split(':');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host, port: Number(port), method: 'POST', path: '/webapi/local/login', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ user: 'zed', password: 'wrong password!', totp_code: '000000', public_key: 'x' }));
    });
    expect(status).toBe(403);
    expect(await h.deps.state.counter('login-fail#user#zed')).toBeUndefined();
  });

  it('a removed editor loses tctl at once; overwriting a user revokes the certificates already out', async () => {
    await signed.call('POST', '/webapi/admin/users', { name: 'olga', roles: ['editor'] }, admin);
    const olga = await h.identity({ username: 'olga', roles: ['editor'], connector: 'local' });
    expect((await signed.call<{ items: unknown[] }>('GET', '/webapi/admin/users', undefined, olga)).items.length).toBeGreaterThan(0);
    h.clock.advance(1000);
    await signed.call(
      'POST',
      '/webapi/admin/resources',
      { document: { kind: 'user', version: 'v2', metadata: { name: 'olga' }, spec: { roles: ['access'] } }, overwrite: true },
      admin,
    );
    const revoked = await failure(signed.call('GET', '/webapi/admin/users', undefined, olga));
    expect(revoked.status).toBe(401);
    expect(revoked.message).toContain('your certificate was revoked');
    const beforeRemoval = await h.identity({ username: 'olga', roles: ['editor'] });
    await signed.call('DELETE', '/webapi/admin/users/olga', undefined, admin);
    const removed = await failure(signed.call('GET', '/webapi/admin/users', undefined, beforeRemoval));
    expect(removed.message).toBe('user olga no longer exists; ask an admin');
    h.clock.advance(1000);
    await signed.call('POST', '/webapi/admin/users', { name: 'olga', roles: ['editor'] }, admin);
    expect((await failure(signed.call('GET', '/webapi/admin/users', undefined, beforeRemoval))).message).toContain(
      'your certificate was revoked',
    );
  });
});
