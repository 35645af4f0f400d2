// The EKS token source against the STS stand-in's authenticator checks: the real signer's token
// is accepted for its cluster only, and the cache signs once per renewal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EKS_TOKEN_PREFIX, EksTokenSource, type AwsCredentialIdentity } from '../../lib/adapters/aws/eks-token.js';
import { AGENT_TASK_ROLE, startStsStandIn, type StsStandIn } from '../support/sts-stand-in.js';

const role = AGENT_TASK_ROLE;
const start = new Date('2026-12-02T12:00:00Z');
let now = start;
const clock = { now: () => now };
let sts: StsStandIn;

beforeAll(async () => {
  sts = await startStsStandIn({ region: 'eu-west-1', identities: [role], now: () => now });
});
afterAll(() => sts.close());

const source = (credentials: Partial<AwsCredentialIdentity> = {}, counter?: { signed: number }) =>
  new EksTokenSource({
    clusterName: 'prod',
    region: 'eu-west-1',
    clock,
    stsEndpoint: sts.url,
    credentials: () => {
      if (counter) counter.signed += 1;
      return Promise.resolve({
        accessKeyId: role.accessKeyId,
        secretAccessKey: role.secretAccessKey,
        sessionToken: role.sessionToken!,
        ...credentials,
      });
    },
  });

describe('EKS token source', () => {
  it('makes a token the authenticator accepts for its cluster, naming the role an access entry matches', async () => {
    now = start;
    const token = await source().token();
    expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
    const url = new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString());
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(sts.verifyEksToken(token, 'prod')).toEqual({
      arn: role.arn,
      principalArn: 'arn:aws:iam::111122223333:role/kubeport-agent',
      accountId: '111122223333',
      userId: role.userId,
    });
  });

  it('presigns the regional STS endpoint when no endpoint is configured', async () => {
    now = start;
    const regional = new EksTokenSource({ clusterName: 'prod', region: 'eu-west-1', clock, credentials: () => Promise.resolve(role) });
    const url = new URL(Buffer.from((await regional.token()).slice(EKS_TOKEN_PREFIX.length), 'base64url').toString());
    expect(url.origin).toBe('https://sts.eu-west-1.amazonaws.com');
  });

  it('returns the same token within its life and a new one after the renewal time', async () => {
    now = start;
    const counter = { signed: 0 };
    const tokens = source({}, counter);
    const first = await tokens.token();
    now = new Date(start.getTime() + 9 * 60_000);
    expect(await tokens.token()).toBe(first);
    now = new Date(start.getTime() + 10 * 60_000);
    const second = await tokens.token();
    expect(second).not.toBe(first);
    expect(counter.signed).toBe(2);
    expect(sts.verifyEksToken(second, 'prod').arn).toBe(role.arn);
  });

  it('renews early when the credentials expire before the renewal time', async () => {
    now = start;
    const counter = { signed: 0 };
    const tokens = source({ expiration: new Date(start.getTime() + 5 * 60_000) }, counter);
    const first = await tokens.token();
    now = new Date(start.getTime() + 4 * 60_000);
    expect(await tokens.token()).not.toBe(first);
    expect(counter.signed).toBe(2);
  });

  it('renews after the configured time (KUBEPORT_EKS_TOKEN_RENEW_SECONDS), never later than a minute before EKS stops taking it', async () => {
    const withRenewal = (renewAfterMs: number) =>
      new EksTokenSource({
        clusterName: 'prod',
        region: 'eu-west-1',
        clock,
        stsEndpoint: sts.url,
        credentials: () => Promise.resolve(role),
        renewAfterMs,
      });
    now = start;
    expect((await withRenewal(120_000).fresh()).renewAt).toEqual(new Date(start.getTime() + 120_000));
    expect((await withRenewal(3_600_000).fresh()).renewAt).toEqual(new Date(start.getTime() + 14 * 60_000));
  });

  it('lets concurrent callers share one signing', async () => {
    now = start;
    const counter = { signed: 0 };
    const tokens = source({}, counter);
    const all = await Promise.all(Array.from({ length: 20 }, () => tokens.token()));
    expect(new Set(all).size).toBe(1);
    expect(counter.signed).toBe(1);
  });

  it('never puts the token or the secret in the error when credentials fail, and tries again next time', async () => {
    now = start;
    let fail = true;
    const tokens = new EksTokenSource({
      clusterName: 'prod',
      region: 'eu-west-1',
      clock,
      stsEndpoint: sts.url,
      credentials: () => (fail ? Promise.reject(new Error('no task role credentials endpoint')) : Promise.resolve(role)),
    });
    await expect(tokens.token()).rejects.toThrow(/no AWS credentials to sign the EKS token for cluster prod/);
    fail = false;
    const token = await tokens.token();
    let message = '';
    try {
      sts.verifyEksToken(token, 'staging');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/signature does not match/);
    expect(message).not.toContain(token.slice(EKS_TOKEN_PREFIX.length, 40));
    expect(message).not.toContain(role.secretAccessKey);
  });

  it('keeps serving the token it meant to renew while EKS accepts it when renewal fails, then fails', async () => {
    now = start;
    let fail = false;
    const tokens = new EksTokenSource({
      clusterName: 'prod',
      region: 'eu-west-1',
      clock,
      stsEndpoint: sts.url,
      credentials: () => (fail ? Promise.reject(new Error('credentials endpoint down')) : Promise.resolve(role)),
    });
    const first = await tokens.token();
    fail = true;
    now = new Date(start.getTime() + 11 * 60_000);
    expect(await tokens.token()).toBe(first);
    expect(sts.verifyEksToken(first, 'prod').arn).toBe(role.arn);
    now = new Date(start.getTime() + 14 * 60_000 + 1);
    await expect(tokens.token()).rejects.toThrow(/credentials endpoint down/);
    fail = false;
    expect(await tokens.token()).not.toBe(first);
  });
});
