// The agent's TLS certificate route (POST /webapi/iam/host-cert): API Gateway's AWS_IAM
// authorizer (the SigV4-verifying stand-in) in front of the auth function over DynamoDB, called
// by the agent's own client. Only sessions of the configured agent role get a certificate, for
// exactly the configured names, for two hours; every other caller, key or body is refused, and
// nothing refused is issued or audited.
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentHostCertificateClient } from '../../lib/adapters/aws/agent-host-certificate-client.js';
import { AGENT_HOST_CERT_ROUTE, AGENT_HOST_CERT_TTL_MS } from '../../lib/core/agent-host-certificate.js';
import { type AwsCredentials, awsSigV4Signer } from '../../lib/platform/aws-sigv4-signer.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';
import { searchEvents } from '../support/audit-events.js';
import { type IamPrincipal, STAND_IN_ACCOUNT } from '../support/iam-api-gateway.js';
import { AGENT_TASK_ROLE } from '../support/sts-stand-in.js';

const region = 'eu-west-1';
const ROLE_ARN = `arn:aws:iam::${STAND_IN_ACCOUNT}:role/kubeport/kubeport-agent`;
const HOST_NAMES = ['agent.kubeport.example.com', '203.0.113.7'];

const principal = (accessKeyId: string, userArn: string, granted = true): IamPrincipal => ({
  accessKeyId,
  secretAccessKey: `${accessKeyId}-secret`,
  ...(userArn.includes(':sts:') ? { sessionToken: `${accessKeyId}-token` } : {}),
  userArn,
  granted,
});
// The agent's task role session (the STS stand-in's identity), and callers that must not pass for it.
const agent: IamPrincipal = {
  accessKeyId: AGENT_TASK_ROLE.accessKeyId,
  secretAccessKey: AGENT_TASK_ROLE.secretAccessKey,
  sessionToken: AGENT_TASK_ROLE.sessionToken!,
  userArn: AGENT_TASK_ROLE.arn,
  granted: true,
};
const otherRole = principal('ASIAOTHERROLE', `arn:aws:sts::${STAND_IN_ACCOUNT}:assumed-role/kubeport-admin/task-1`);
const otherAccount = principal('ASIAOTHERACCOUNT', 'arn:aws:sts::444455556666:assumed-role/kubeport-agent/task-1');
const sameNamedUser = principal('AKIAAGENTUSER', `arn:aws:iam::${STAND_IN_ACCOUNT}:user/kubeport-agent`);
const similarRole = principal('ASIASIMILAR', `arn:aws:sts::${STAND_IN_ACCOUNT}:assumed-role/kubeport-agent-2/task-1`);

describe('the agent host certificate route', () => {
  let h: ApiHarness;
  let unconfigured: ApiHarness;
  /** The route deployed without the AWS_IAM authorizer (a misconfiguration): events carry no IAM context. */
  let unguarded: ApiHarness;
  const credentialsOf = (p: IamPrincipal): AwsCredentials => ({
    accessKeyId: p.accessKeyId,
    secretAccessKey: p.secretAccessKey,
    ...(p.sessionToken ? { sessionToken: p.sessionToken } : {}),
  });
  const clientFor = (harness: ApiHarness, credentials: AwsCredentials) =>
    agentHostCertificateClient({ apiUrl: `http://${harness.proxy}`, region, credentials, clock: harness.clock });
  const issuedCount = async (harness: ApiHarness = h) =>
    (
      await searchEvents(harness.deps.audit, {
        from: new Date(harness.clock.now().getTime() - 3_600_000),
        to: new Date(harness.clock.now().getTime() + 60_000),
        event: 'cert.create',
      })
    ).length;
  /** A call signed as `p` with `body`, sent as is: status and the error's code and message. */
  const post = async (p: IamPrincipal | AwsCredentials, body: unknown, harness: ApiHarness = h) => {
    const signed = await awsSigV4Signer({ region, credentials: 'userArn' in p ? credentialsOf(p) : p, clock: harness.clock }).sign({
      method: 'POST',
      url: `http://${harness.proxy}${AGENT_HOST_CERT_ROUTE}`,
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const response = await fetch(signed.url, { method: 'POST', headers: signed.headers, body: signed.body });
    const answer = (await response.json()) as { error?: { code: string; message: string }; message?: string; cert?: string };
    return { status: response.status, code: answer.error?.code, message: answer.error?.message ?? answer.message ?? '', answer };
  };
  const p256Key = () =>
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

  beforeAll(async () => {
    const principals = [agent, otherRole, otherAccount, sameNamedUser, similarRole];
    const agentHostCert = { roleArn: ROLE_ARN, hostNames: HOST_NAMES };
    [h, unconfigured, unguarded] = await Promise.all([
      startApiHarness(new Date(), { iam: { region, principals }, agentHostCert }),
      startApiHarness(new Date(), { iam: { region, principals } }),
      startApiHarness(new Date(), { iam: { region, principals, authorizer: false }, agentHostCert }),
    ]);
  });
  afterAll(async () => {
    await h?.close();
    await unconfigured?.close();
    await unguarded?.close();
  });

  it('the agent role gets a certificate for exactly the configured names, for two hours, that verifies against the host CA; audited', async () => {
    const before = await issuedCount();
    const tls = await clientFor(h, credentialsOf(agent))();
    const cert = new X509Certificate(tls.certPem);
    expect(cert.subjectAltName).toBe('DNS:agent.kubeport.example.com, IP Address:203.0.113.7');
    expect(cert.verify(new X509Certificate(h.hostCa.certPem).publicKey)).toBe(true);
    expect(cert.checkIssued(new X509Certificate(h.hostCa.certPem))).toBe(true);
    expect(cert.verify(new X509Certificate(h.userCa.certPem).publicKey)).toBe(false);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    const lifetime = tls.notAfter.getTime() - h.clock.now().getTime();
    expect(lifetime).toBeGreaterThan(AGENT_HOST_CERT_TTL_MS - 120_000);
    expect(lifetime).toBeLessThanOrEqual(AGENT_HOST_CERT_TTL_MS + 1_000);
    expect(tls.hostCas).toEqual([h.hostCa.certPem]);
    expect(cert.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(tls.keyPem)))).toBe(true);

    expect(await issuedCount()).toBe(before + 1);
    const [event] = await searchEvents(h.deps.audit, {
      from: new Date(h.clock.now().getTime() - 60_000),
      to: new Date(h.clock.now().getTime() + 60_000),
      event: 'cert.create',
      limit: 1,
    });
    expect(event).toMatchObject({
      user: `aws:${AGENT_TASK_ROLE.arn}`,
      cert_type: 'host',
      cert_serial: cert.serialNumber.toLowerCase(),
      identity: { principals: HOST_NAMES, aws_role: `arn:aws:iam::${STAND_IN_ACCOUNT}:role/kubeport-agent` },
    });
  });

  it('another role, the same role name in another account, an IAM user of that name and a role with a longer name are refused; nothing is issued', async () => {
    const before = await issuedCount();
    for (const caller of [otherRole, otherAccount, sameNamedUser, similarRole]) {
      const refused = await post(caller, { public_key: p256Key() });
      expect({ caller: caller.userArn, status: refused.status, code: refused.code }).toEqual({
        caller: caller.userArn,
        status: 403,
        code: 'access_denied',
      });
      expect(refused.message).toMatch(/agent's role/);
    }
    expect(await issuedCount()).toBe(before);
  });

  it('a forged signature (a guessed secret) and an unknown access key are refused by the gateway; nothing is issued', async () => {
    const before = await issuedCount();
    expect(await post({ ...credentialsOf(agent), secretAccessKey: 'guessed' }, { public_key: p256Key() })).toMatchObject({
      status: 403,
      message: 'Forbidden',
    });
    expect(await post({ accessKeyId: 'ASIAUNKNOWN', secretAccessKey: 'x' }, { public_key: p256Key() })).toMatchObject({ status: 403 });
    // Unsigned.
    const unsigned = await fetch(`http://${h.proxy}${AGENT_HOST_CERT_ROUTE}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ public_key: p256Key() }),
    });
    expect(unsigned.status).toBe(403);
    expect(await issuedCount()).toBe(before);
  });

  it('the same signed request sent twice is refused the second time (replay)', async () => {
    const signed = await awsSigV4Signer({ region, credentials: credentialsOf(agent), clock: h.clock }).sign({
      method: 'POST',
      url: `http://${h.proxy}${AGENT_HOST_CERT_ROUTE}`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ public_key: p256Key() }),
    });
    const send = () => fetch(signed.url, { method: 'POST', headers: signed.headers, body: signed.body });
    expect((await send()).status).toBe(200);
    const before = await issuedCount();
    const again = await send();
    expect(again.status).toBe(401);
    expect(await again.json()).toEqual({
      error: expect.objectContaining({ message: expect.stringMatching(/already used \(replay refused\)/) }),
    });
    expect(await issuedCount()).toBe(before);
  });

  it('a body with names, a TTL or any other extra field is refused, never honoured; nothing is issued', async () => {
    const before = await issuedCount();
    for (const extra of [{ host_names: ['evil.example.com'] }, { dns_names: ['evil.example.com'] }, { ttl_seconds: 86_400 }]) {
      const refused = await post(agent, { public_key: p256Key(), ...extra });
      expect(refused).toMatchObject({ status: 400, code: 'bad_request' });
      expect(refused.message).toMatch(/unrecognized key/i);
    }
    expect(await post(agent, 'not json')).toMatchObject({ status: 400 });
    expect(await post(agent, {})).toMatchObject({ status: 400 });
    expect(await issuedCount()).toBe(before);
  });

  it('an RSA key, a P-384 key, a PEM instead of DER base64 and garbage are refused; nothing is issued', async () => {
    const before = await issuedCount();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    for (const [key, why] of [
      [rsa, /P-256/],
      [p384, /P-256/],
      [ed, /P-256/],
      [pem, /base64 DER/],
      [Buffer.from('garbage').toString('base64'), /not a DER/],
    ] as const) {
      const refused = await post(agent, { public_key: key });
      expect(refused).toMatchObject({ status: 400, code: 'bad_request' });
      expect(refused.message).toMatch(why);
    }
    expect(await issuedCount()).toBe(before);
  });

  it('a lock on the agent role, or on its session, stops issuance; removing it lets the agent in again', async () => {
    const lock = (name: string, user: string) =>
      h.deps.resources.put('lock', name, {
        kind: 'lock',
        version: 'v2',
        metadata: { name },
        spec: { target: { user }, message: 'agent role compromised' },
      });
    for (const [name, user] of [
      ['agent-role', `aws:arn:aws:iam::${STAND_IN_ACCOUNT}:role/kubeport-agent`],
      ['agent-session', `aws:${AGENT_TASK_ROLE.arn}`],
    ] as const) {
      await lock(name, user);
      const before = await issuedCount();
      const refused = await post(agent, { public_key: p256Key() });
      expect(refused).toMatchObject({ status: 403, code: 'access_denied' });
      expect(refused.message).toContain(`lock targeting User:"${user}" is in force: agent role compromised`);
      expect(await issuedCount()).toBe(before);
      await h.deps.resources.delete('lock', name);
    }
    expect((await post(agent, { public_key: p256Key() })).status).toBe(200);
  });

  it('a deployment without an agent answers 404, to the agent role too, and issues nothing', async () => {
    const refused = await post(agent, { public_key: p256Key() }, unconfigured);
    expect(refused).toMatchObject({ status: 404, code: 'not_found' });
    expect(await issuedCount(unconfigured)).toBe(0);
    await expect(clientFor(unconfigured, credentialsOf(agent))()).rejects.toThrow(/refused: 404 not_found/);
  });

  it('deployed without the AWS_IAM authorizer, the route refuses every call, signed as the agent or not, and issues nothing', async () => {
    const signed = await post(agent, { public_key: p256Key() }, unguarded);
    expect(signed).toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(signed.message).toMatch(/carries no IAM authorization; deploy it with the AWS_IAM authorizer/);
    expect(await issuedCount(unguarded)).toBe(0);
  });
});
