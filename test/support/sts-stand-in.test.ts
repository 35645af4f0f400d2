// The STS stand-in refuses every EKS token the authenticator would refuse: another cluster, an
// expired one, a tampered one, a wrong secret; and it answers the real STS client unchanged.
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EKS_TOKEN_PREFIX, EksTokenSource } from '../../lib/adapters/aws/eks-token.js';
import { NodeSha256 } from '../../lib/platform/node-sha256.js';
import { AGENT_TASK_ROLE, StsError, callerIdentity, startStsStandIn, type StsStandIn } from './sts-stand-in.js';

const role = AGENT_TASK_ROLE;
const start = new Date('2026-12-02T12:00:00Z');
let now = start;
let sts: StsStandIn;

beforeAll(async () => {
  sts = await startStsStandIn({ region: 'eu-west-1', identities: [role], now: () => now });
});
afterAll(() => sts.close());

const tokenFor = (clusterName: string, secretAccessKey = role.secretAccessKey) =>
  new EksTokenSource({
    clusterName,
    region: 'eu-west-1',
    clock: { now: () => start },
    stsEndpoint: sts.url,
    credentials: () => Promise.resolve({ ...role, secretAccessKey }),
  }).token();
const decoded = (token: string) => new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString());
const encoded = (url: URL) => EKS_TOKEN_PREFIX + Buffer.from(url.toString()).toString('base64url');

describe('STS stand-in and the EKS token check', () => {
  it('refuses a token signed for another cluster', async () => {
    now = start;
    const token = await tokenFor('staging');
    expect(sts.verifyEksToken(token, 'staging').accountId).toBe('111122223333');
    expect(() => sts.verifyEksToken(token, 'prod')).toThrow(/signature does not match/);
  });

  it('accepts a token for 15 minutes, ignoring X-Amz-Expires as STS does, and refuses it after', async () => {
    const token = await tokenFor('prod');
    now = new Date(start.getTime() + 14 * 60_000);
    expect(sts.verifyEksToken(token, 'prod').arn).toBe(role.arn);
    now = new Date(start.getTime() + 15 * 60_000 + 1000);
    expect(() => sts.verifyEksToken(token, 'prod')).toThrow(/expired/);
    now = new Date(start.getTime() - 6 * 60_000);
    expect(() => sts.verifyEksToken(token, 'prod')).toThrow(/future/);
  });

  it('refuses a token with any query parameter changed, added or a longer X-Amz-Expires', async () => {
    now = start;
    const token = await tokenFor('prod');
    for (const name of [...decoded(token).searchParams.keys()]) {
      const url = decoded(token);
      const value = url.searchParams.get(name)!;
      url.searchParams.set(
        name,
        name === 'X-Amz-Date'
          ? '20261202T120001Z'
          : name === 'X-Amz-Expires'
            ? '59'
            : `${value.slice(0, -1)}${value.endsWith('0') ? '1' : '0'}`,
      );
      expect(() => sts.verifyEksToken(encoded(url), 'prod'), name).toThrow(/refused/);
    }
    const added = decoded(token);
    added.searchParams.set('Action2', 'AssumeRole');
    expect(() => sts.verifyEksToken(encoded(added), 'prod')).toThrow(/not allowed/);
    const longer = decoded(token);
    longer.searchParams.set('X-Amz-Expires', '900');
    expect(() => sts.verifyEksToken(encoded(longer), 'prod')).toThrow(/X-Amz-Expires/);
    const elsewhere = decoded(token);
    elsewhere.host = 'sts.example.com';
    expect(() => sts.verifyEksToken(encoded(elsewhere), 'prod')).toThrow(/not an STS endpoint/);
  });

  it('refuses a token signed with a wrong secret', async () => {
    now = start;
    const token = await tokenFor('prod', 'not-the-secret');
    expect(() => sts.verifyEksToken(token, 'prod')).toThrow(/signature does not match/);
  });

  it('refuses a token without the k8s-aws-v1 prefix', () => {
    expect(() => sts.verifyEksToken('k8s-aws-v2.aGVsbG8', 'prod')).toThrow(/does not start with k8s-aws-v1/);
  });

  it('refuses a presigned URL without x-k8s-aws-id signed', async () => {
    now = start;
    const token = await tokenFor('prod');
    const url = decoded(token);
    url.searchParams.set('X-Amz-SignedHeaders', 'host');
    expect(() => sts.verifyEksToken(encoded(url), 'prod')).toThrow(/x-k8s-aws-id is not a signed header/);
  });

  it('answers the real STS client (Authorization header) and the presigned GET in STS XML, and errors in its error shape', async () => {
    now = new Date();
    const client = new STSClient({ region: 'eu-west-1', endpoint: sts.url, credentials: role });
    const identity = await client.send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({ Arn: role.arn, Account: '111122223333', UserId: role.userId });
    const wrong = new STSClient({ region: 'eu-west-1', endpoint: sts.url, credentials: { ...role, secretAccessKey: 'wrong' } });
    await expect(wrong.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
    const unknown = new STSClient({
      region: 'eu-west-1',
      endpoint: sts.url,
      credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' },
    });
    await expect(unknown.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'InvalidClientTokenId' });

    now = start;
    const url = decoded(await tokenFor('prod'));
    const answer = await fetch(url, { headers: { 'x-k8s-aws-id': 'prod' } });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toMatch(
      /<GetCallerIdentityResult><Arn>arn:aws:sts::111122223333:assumed-role\/kubeport-agent\/task-1<\/Arn>/,
    );
    const otherCluster = await fetch(url, { headers: { 'x-k8s-aws-id': 'staging' } });
    expect(otherCluster.status).toBe(403);
    expect(await otherCluster.text()).toMatch(/<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>SignatureDoesNotMatch<\/Code>/);
  });
});

describe('STS stand-in: what real STS refuses', () => {
  const partnerRole = 'arn:aws:iam::444455556666:role/kubeport-eks-access';
  const sameAccountRole = 'arn:aws:iam::111122223333:role/kubeport-reader';
  const otherPartnerRole = 'arn:aws:iam::444455556666:role/kubeport-other';
  const trustingOnlyRole = 'arn:aws:iam::444455556666:role/trusting-only';
  const agentRole = 'arn:aws:iam::111122223333:role/kubeport-agent';
  let strict: StsStandIn;
  let strictNow = new Date();
  const clients: STSClient[] = [];
  const client = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, systemClockOffset = 0) => {
    // One attempt: the SDK would otherwise correct its clock from the answer's Date and try again.
    const made = new STSClient({ region: 'eu-west-1', endpoint: strict.url, credentials, systemClockOffset, maxAttempts: 1 });
    clients.push(made);
    return made;
  };
  const assume = async (roleArn: string) => {
    const { Credentials } = await client(role).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'kubeport-agent' }));
    return {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretAccessKey!,
      sessionToken: Credentials!.SessionToken!,
      expiration: Credentials!.Expiration!,
    };
  };

  beforeAll(async () => {
    strict = await startStsStandIn({
      region: 'eu-west-1',
      identities: [{ ...role }],
      now: () => strictNow,
      trusts: { [partnerRole]: [agentRole], [sameAccountRole]: [agentRole], [otherPartnerRole]: [], [trustingOnlyRole]: [agentRole] },
      permits: { [agentRole]: [partnerRole, otherPartnerRole] },
    });
  });
  afterAll(async () => {
    for (const made of clients) made.destroy();
    await strict.close();
  });

  it('answers ExpiredToken, in its error shape, to assumed-role credentials used after their Expiration', async () => {
    strictNow = new Date();
    const session = await assume(partnerRole);
    expect(session.expiration.getTime()).toBe(Math.floor((strictNow.getTime() + 3600_000) / 1000) * 1000);
    expect((await client(session).send(new GetCallerIdentityCommand({}))).Arn).toMatch(/assumed-role\/kubeport-eks-access\//);
    // An hour and a second on, by both the caller's clock and STS's.
    const later = 3601_000;
    strictNow = new Date(Date.now() + later);
    await expect(client(session, later).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'ExpiredToken',
      message: 'The security token included in the request is expired',
      $metadata: { httpStatusCode: 403 },
    });
    // An EKS token presigned a minute before the session expired is refused a minute after.
    const signedAt = new Date(session.expiration.getTime() - 60_000);
    const token = await new EksTokenSource({
      clusterName: 'partner',
      region: 'eu-west-1',
      clock: { now: () => signedAt },
      stsEndpoint: strict.url,
      credentials: () => Promise.resolve(session),
    }).token();
    strictNow = new Date(signedAt.getTime() + 30_000);
    expect(strict.verifyEksToken(token, 'partner').principalArn).toBe(partnerRole);
    strictNow = new Date(session.expiration.getTime() + 60_000);
    expect(() => strict.verifyEksToken(token, 'partner')).toThrow(/STS answered ExpiredToken/);
  });

  it('takes only us-east-1 signatures for the global host sts.amazonaws.com, as STS does', async () => {
    strictNow = start;
    const globalToken = (region: string) =>
      new EksTokenSource({
        clusterName: 'prod',
        region,
        clock: { now: () => start },
        stsEndpoint: 'https://sts.amazonaws.com',
        credentials: () => Promise.resolve(role),
      }).token();
    expect(strict.verifyEksToken(await globalToken('us-east-1'), 'prod').arn).toBe(role.arn);
    // The same for a call signed in the Authorization header (a POST, as the SDK sends).
    const headerSigned = async (region: string) => {
      const body = 'Action=GetCallerIdentity&Version=2011-06-15';
      const signer = new SignatureV4({ service: 'sts', region, credentials: role, sha256: NodeSha256 });
      const signed = await signer.sign(
        new HttpRequest({
          method: 'POST',
          protocol: 'https:',
          hostname: 'sts.amazonaws.com',
          path: '/',
          headers: { host: 'sts.amazonaws.com', 'content-type': 'application/x-www-form-urlencoded' },
          body,
        }),
        { signingDate: start },
      );
      const request = { method: 'POST', url: '/', headers: signed.headers, body: Buffer.from(body) };
      return () => callerIdentity(request, { now: start, region: 'eu-west-1', identities: [role] });
    };
    expect((await headerSigned('us-east-1'))().arn).toBe(role.arn);
    expect(await headerSigned('eu-west-1')).toThrow(
      expect.objectContaining({ code: 'SignatureDoesNotMatch', message: 'Credential should be scoped to a valid region. ' }) as StsError,
    );
    for (const region of ['eu-west-1', 'us-west-2']) {
      const token = await globalToken(region);
      expect(() => strict.verifyEksToken(token, 'prod')).toThrow(
        'the EKS token is refused: STS answered SignatureDoesNotMatch: Credential should be scoped to a valid region. ',
      );
    }
  });

  it("assumes a role of another account only when both the caller's policy and the role's trust policy allow it", async () => {
    strictNow = new Date();
    expect((await assume(partnerRole)).accessKeyId).toMatch(/^ASIA/);
    // Trusted, but the agent's own policy does not allow it: the identity-based policy message.
    await expect(assume(trustingOnlyRole)).rejects.toMatchObject({
      name: 'AccessDenied',
      message: `User: ${role.arn} is not authorized to perform: sts:AssumeRole on resource: ${trustingOnlyRole} because no identity-based policy allows the sts:AssumeRole action`,
    });
    // Allowed by the agent's policy, but its trust policy names nobody.
    await expect(assume(otherPartnerRole)).rejects.toMatchObject({
      name: 'AccessDenied',
      message: `User: ${role.arn} is not authorized to perform: sts:AssumeRole on resource: ${otherPartnerRole}`,
    });
    // Within one account, a trust policy naming the role suffices.
    expect((await assume(sameAccountRole)).accessKeyId).toMatch(/^ASIA/);
  });
});
