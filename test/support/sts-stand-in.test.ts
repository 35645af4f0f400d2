// The STS stand-in refuses every EKS token the authenticator would refuse: another cluster, an
// expired one, a tampered one, a wrong secret; and it answers the real STS client unchanged.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EKS_TOKEN_PREFIX, EksTokenSource } from '../../lib/adapters/aws/eks-token.js';
import { AGENT_TASK_ROLE, startStsStandIn, type StsStandIn } from './sts-stand-in.js';

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
