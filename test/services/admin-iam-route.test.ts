// The break-glass admin route (/webapi/iam/admin/): API Gateway's AWS_IAM authorizer (the
// SigV4-verifying stand-in) in front of the admin function over DynamoDB. Only principals granted
// the permission get through; the function acts as the verified ARN and audits it; certificate
// and IAM calls cannot cross into each other's routes; nothing refused changes anything.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ClientError } from '../../lib/client/api-client.js';
import { type AwsCredentials, awsSigV4Signer } from '../../lib/platform/aws-sigv4-signer.js';
import { createAdminHandler } from '../../lambdas/admin/handler.js';
import { type GatewayAuthorizer, createApiGatewayServer } from '../../lib/adapters/local/api-gateway-adapter.js';
import { apiAudience } from '../../lib/core/signed-request.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';
import { searchEvents } from '../support/audit-events.js';
import { type IamPrincipal, iamAuthorizer, iamContext, startIamApiGateway } from '../support/iam-api-gateway.js';

const region = 'eu-west-1';
const alice: IamPrincipal = {
  accessKeyId: 'AKIAALICEEXAMPLE',
  secretAccessKey: 'alice-secret',
  userArn: 'arn:aws:iam::111122223333:user/ops/alice',
  granted: true,
};
const bobSession: IamPrincipal = {
  accessKeyId: 'ASIABOBEXAMPLE',
  secretAccessKey: 'bob-secret',
  sessionToken: 'bob-session-token',
  userArn: 'arn:aws:sts::111122223333:assumed-role/KubeportAdmin/bob',
  granted: true,
};
const carol: IamPrincipal = {
  accessKeyId: 'AKIACAROLEXAMPLE',
  secretAccessKey: 'carol-secret',
  userArn: 'arn:aws:iam::111122223333:user/carol',
  granted: false,
};

// Granted, and correctly signed, but from another account than the one the API is deployed in.
const outsider: IamPrincipal = {
  accessKeyId: 'AKIAOUTSIDEREXAMPLE',
  secretAccessKey: 'outsider-secret',
  userArn: 'arn:aws:iam::444455556666:user/ops/eve',
  granted: true,
};

const role = (name: string) => ({ kind: 'role', version: 'v7', metadata: { name }, spec: { allow: { kubernetes_groups: [name] } } });

describe('the IAM-authorized admin route', () => {
  let h: ApiHarness;
  const credentialsOf = (p: IamPrincipal): AwsCredentials => ({
    accessKeyId: p.accessKeyId,
    secretAccessKey: p.secretAccessKey,
    ...(p.sessionToken ? { sessionToken: p.sessionToken } : {}),
  });
  const signerFor = (credentials: AwsCredentials, skewMs = 0) =>
    awsSigV4Signer({ region, credentials, clock: { now: () => new Date(h.clock.now().getTime() + skewMs) } });
  const iamCall = <T>(p: IamPrincipal | AwsCredentials, method: string, path: string, body?: unknown, skewMs = 0) =>
    new ApiClient(h.proxy).call<T>(method, path, body, signerFor('userArn' in p ? credentialsOf(p) : p, skewMs));
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => 'succeeded',
      (error: ClientError) => ({ status: error.status, code: error.serverCode, message: error.message }),
    );
  const roleExists = async (name: string) => (await h.deps.resources.get('role', name)) !== undefined;

  beforeAll(async () => {
    h = await startApiHarness(new Date(), {
      iam: { region, principals: [alice, bobSession, carol, outsider], deploymentAccount: '111122223333' },
    });
  });
  afterAll(() => h?.close());

  it('a granted IAM user lists roles and creates one; the audit event names its ARN', async () => {
    const { items } = await iamCall<{ items: { metadata: { name: string } }[] }>(alice, 'GET', '/webapi/iam/admin/resources/role');
    expect(items.map((r) => r.metadata.name)).toContain('editor');
    const created = await iamCall<{ results: unknown[] }>(alice, 'POST', '/webapi/iam/admin/resources', { documents: [role('glass')] });
    expect(created.results).toEqual([expect.objectContaining({ created: true })]);
    const events = await searchEvents(h.deps.audit, {
      from: new Date(h.clock.now().getTime() - 60_000),
      to: new Date(h.clock.now().getTime() + 60_000),
      event: 'role.created',
    });
    expect(events).toEqual([expect.objectContaining({ user: 'aws:arn:aws:iam::111122223333:user/ops/alice', name: 'glass' })]);
  });

  it('an assumed-role session (temporary credentials) acts as its session ARN', async () => {
    await iamCall(bobSession, 'POST', '/webapi/iam/admin/users', { name: 'dora', roles: ['access'] });
    const events = await searchEvents(h.deps.audit, {
      from: new Date(h.clock.now().getTime() - 60_000),
      to: new Date(h.clock.now().getTime() + 60_000),
      event: 'user.create',
    });
    expect(events).toEqual([
      expect.objectContaining({ user: 'aws:arn:aws:sts::111122223333:assumed-role/KubeportAdmin/bob', name: 'dora' }),
    ]);
  });

  it('a principal not granted the permission gets API Gateway 403 Forbidden and changes nothing', async () => {
    expect(await failure(iamCall(carol, 'POST', '/webapi/iam/admin/resources', { documents: [role('carols')] }))).toEqual({
      status: 403,
      code: undefined,
      message: 'Forbidden',
    });
    expect(await roleExists('carols')).toBe(false);
  });

  it('a principal of another account, even granted and correctly signed, is refused by the function and changes nothing', async () => {
    expect(await failure(iamCall(outsider, 'POST', '/webapi/iam/admin/resources', { documents: [role('outsiders')] }))).toEqual({
      status: 403,
      code: 'access_denied',
      message: expect.stringMatching(/account Kubeport is deployed in \(111122223333\); .*belongs to 444455556666/),
    });
    expect(await roleExists('outsiders')).toBe(false);
    // The same call from the deployment's account goes through.
    await iamCall(alice, 'POST', '/webapi/iam/admin/resources', { documents: [role('insiders')] });
    expect(await roleExists('insiders')).toBe(true);
  });

  it('a wrong secret, a stale date and a date from the future are refused by the gateway and change nothing', async () => {
    const wrongSecret = { ...credentialsOf(alice), secretAccessKey: 'guessed' };
    for (const [who, skew] of [
      [wrongSecret, 0],
      [credentialsOf(alice), -16 * 60_000],
      [credentialsOf(alice), 16 * 60_000],
    ] as const) {
      expect(await failure(iamCall(who, 'POST', '/webapi/iam/admin/resources', { documents: [role('stale')] }, skew))).toMatchObject({
        status: 403,
        message: 'Forbidden',
      });
    }
    expect(await roleExists('stale')).toBe(false);
  });

  it('the same signed request sent twice is refused the second time (replay inside the window API Gateway accepts it)', async () => {
    const signed = await signerFor(credentialsOf(alice)).sign({
      method: 'POST',
      url: `http://${h.proxy}/webapi/iam/admin/resources`,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ documents: [role('once')] }),
    });
    const send = () => fetch(signed.url, { method: 'POST', headers: signed.headers, body: signed.body });
    expect((await send()).status).toBe(201);
    await h.deps.resources.delete('role', 'once');
    const again = await send();
    expect(again.status).toBe(401);
    expect(await again.json()).toEqual({
      error: expect.objectContaining({ message: expect.stringMatching(/already used \(replay refused\)/) }),
    });
    expect(await roleExists('once')).toBe(false);
  });

  /** The admin function behind `authorizer`, for spellings of a signature the stand-in gateway itself refuses. */
  const gatewayWith = async (authorizer: GatewayAuthorizer) => {
    const server = createApiGatewayServer(
      () => createAdminHandler(h.deps, () => undefined),
      () => undefined,
      { authorizer },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  };
  const upperCased = (authorization: string) =>
    authorization.replace(/Signature=([0-9a-f]{64})$/, (_, sig: string) => `Signature=${sig.toUpperCase()}`);

  it('security: a replay that spells the signature in upper-case hex is still refused', async () => {
    // A gateway that verifies the signature whatever the case of its hex digits, as AWS may.
    const verify = iamAuthorizer({ region, principals: [alice], deploymentAccount: '111122223333', now: h.clock.now });
    const caseBlind: GatewayAuthorizer = (req, body) => {
      const lowered = (value: string) =>
        value.replace(/Signature=([0-9a-fA-F]{64})$/, (_, sig: string) => `Signature=${sig.toLowerCase()}`);
      const rawHeaders = req.rawHeaders.map((value, i) =>
        req.rawHeaders[i - 1]?.toLowerCase() === 'authorization' ? lowered(value) : value,
      );
      return verify({ url: req.url, method: req.method, rawHeaders } as http.IncomingMessage, body);
    };
    const gateway = await gatewayWith(caseBlind);
    try {
      const signed = await signerFor(credentialsOf(alice)).sign({
        method: 'POST',
        url: `${gateway.url}/webapi/iam/admin/resources`,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ documents: [role('cased')] }),
      });
      const send = (headers: Record<string, string>) => fetch(signed.url, { method: 'POST', headers, body: signed.body });
      expect((await send(signed.headers)).status).toBe(201);
      await h.deps.resources.delete('role', 'cased');
      const again = await send({ ...signed.headers, authorization: upperCased(signed.headers.authorization!) });
      expect(again.status).toBe(401);
      expect(await again.json()).toEqual({
        error: { code: 'unauthenticated', message: expect.stringMatching(/already used \(replay refused\)/) },
      });
      expect(await roleExists('cased')).toBe(false);
    } finally {
      await gateway.close();
    }
  });

  it('security: a call whose signature the function cannot read is refused with a JSON error and changes nothing', async () => {
    // Whatever a gateway let through, a signature the function cannot remember is not served.
    const anyCall: GatewayAuthorizer = async () => ({ authorization: { iam: iamContext(alice) }, accountId: '111122223333' });
    const gateway = await gatewayWith(anyCall);
    try {
      const credential = 'Credential=AKIAALICEEXAMPLE/20261203/eu-west-1/execute-api/aws4_request, SignedHeaders=host';
      for (const [authorization, query] of [
        [`AWS4-HMAC-SHA256 ${credential}, Signature=${Buffer.alloc(32).toString('base64')}`, ''],
        [`AWS4-HMAC-SHA256 ${credential}`, ''],
        [undefined, `?X-Amz-Signature=${'a'.repeat(63)}`],
        [undefined, ''],
      ] as const) {
        const response = await fetch(`${gateway.url}/webapi/iam/admin/resources${query}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
          body: JSON.stringify({ documents: [role('unreadable')] }),
        });
        expect(response.status).toBe(401);
        expect(await response.json()).toEqual({
          error: { code: 'unauthenticated', message: expect.stringMatching(/cannot be guarded against replay \(refused\)/) },
        });
      }
      expect(await roleExists('unreadable')).toBe(false);
    } finally {
      await gateway.close();
    }
  });

  it('a certificate-signed call cannot reach the IAM route, and an IAM-signed call cannot reach /webapi/admin', async () => {
    const identity = await h.identity({ username: 'kubeport-admin', connector: 'builtin' });
    const certified = new ApiClient(h.proxy, apiAudience(h.deps.clusterName));
    // Both routes accept each kind of call on their own path.
    await certified.call('GET', '/webapi/admin/resources/role', undefined, identity);
    expect(await failure(certified.call('POST', '/webapi/iam/admin/resources', { documents: [role('crossed')] }, identity))).toMatchObject({
      status: 403,
      message: 'Forbidden',
    });
    expect(await failure(iamCall(alice, 'POST', '/webapi/admin/resources', { documents: [role('crossed')] }))).toMatchObject({
      status: 401,
      code: 'unauthenticated',
      message: expect.stringMatching(/needs a signed request/),
    });
    expect(await roleExists('crossed')).toBe(false);
  });

  it('without the IAM authorization context (the route deployed without the authorizer) the function refuses, naming the fix', async () => {
    const admin = createAdminHandler(h.deps, () => undefined);
    const unguarded = await startIamApiGateway({ region, principals: [alice], route: () => admin, authorizer: false, now: h.clock.now });
    try {
      const api = new ApiClient(unguarded.proxy);
      const signer = signerFor(credentialsOf(alice));
      expect(await failure(api.call('POST', '/webapi/iam/admin/resources', { documents: [role('unguarded')] }, signer))).toEqual({
        status: 401,
        code: 'unauthenticated',
        message: expect.stringMatching(/carries no IAM authorization; deploy .* with the AWS_IAM authorizer/),
      });
      expect(await roleExists('unguarded')).toBe(false);
    } finally {
      await unguarded.close();
    }
  });

  it('a lock on a session or on its role refuses it; a lock on the editor role does not shut out break-glass', async () => {
    const lock = (name: string, target: Record<string, string>) => ({ kind: 'lock', version: 'v2', metadata: { name }, spec: { target } });
    await iamCall(alice, 'POST', '/webapi/iam/admin/resources', { documents: [lock('all-editors', { role: 'editor' })] });
    expect((await iamCall<{ items: unknown[] }>(bobSession, 'GET', '/webapi/iam/admin/resources/role')).items.length).toBeGreaterThan(0);

    await iamCall(alice, 'POST', '/webapi/iam/admin/resources', {
      documents: [lock('bob-session', { user: 'aws:arn:aws:sts::111122223333:assumed-role/KubeportAdmin/bob' })],
    });
    expect(await failure(iamCall(bobSession, 'GET', '/webapi/iam/admin/resources/role'))).toMatchObject({
      status: 403,
      code: 'access_denied',
    });
    await iamCall(alice, 'DELETE', '/webapi/iam/admin/resources/lock/bob-session');

    await iamCall(alice, 'POST', '/webapi/iam/admin/resources', {
      documents: [lock('admin-role', { user: 'aws:arn:aws:iam::111122223333:role/KubeportAdmin' })],
    });
    expect(await failure(iamCall(bobSession, 'GET', '/webapi/iam/admin/resources/role'))).toMatchObject({
      status: 403,
      code: 'access_denied',
      message: expect.stringMatching(/lock targeting .*role\/KubeportAdmin.* is in force/),
    });
    // Another IAM principal removes the locks.
    await iamCall(alice, 'DELETE', '/webapi/iam/admin/resources/lock/admin-role');
    await iamCall(alice, 'DELETE', '/webapi/iam/admin/resources/lock/all-editors');
    await iamCall(bobSession, 'GET', '/webapi/iam/admin/resources/role');
  });
});
