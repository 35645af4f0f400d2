// Who an IAM-authorized admin call acts as: the caller's ARN, rebuilt from its parts; the
// principal a lock may name; anything that is not a user, role session or root refused.
import { describe, expect, it } from 'vitest';
import { AWS_IAM_CONNECTOR, awsCallerFromArn, awsCallerIdentity, sigV4Signature } from '../../lib/core/aws-caller.js';
import { githubConnectorSchema } from '../../lib/core/github-connector.js';

describe('awsCallerFromArn', () => {
  it.each([
    [
      'an IAM user (with a path) is its own principal',
      'arn:aws:iam::111122223333:user/ops/alice',
      { username: 'aws:arn:aws:iam::111122223333:user/ops/alice', principal: 'arn:aws:iam::111122223333:user/ops/alice' },
    ],
    [
      'an assumed-role session keeps its session ARN as the user; its principal is the role',
      'arn:aws:sts::111122223333:assumed-role/KubeportAdmin/bob@example.com',
      {
        username: 'aws:arn:aws:sts::111122223333:assumed-role/KubeportAdmin/bob@example.com',
        principal: 'arn:aws:iam::111122223333:role/KubeportAdmin',
        session: 'bob@example.com',
      },
    ],
    [
      'an SSO permission set session in another partition',
      'arn:aws-cn:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/carol',
      {
        username: 'aws:arn:aws-cn:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/carol',
        principal: 'arn:aws-cn:iam::111122223333:role/AWSReservedSSO_Admin_0123abcd',
      },
    ],
    ['the account root', 'arn:aws:iam::111122223333:root', { username: 'aws:arn:aws:iam::111122223333:root' }],
    [
      'a federated user',
      'arn:aws:sts::111122223333:federated-user/dan',
      { principal: 'arn:aws:sts::111122223333:federated-user/dan', account: '111122223333' },
    ],
  ])('%s', (_name, arn, expected) => {
    expect(awsCallerFromArn(arn)).toMatchObject(expected);
  });

  it.each([
    ['a role ARN (roles do not sign; their sessions do)', 'arn:aws:iam::111122223333:role/KubeportAdmin'],
    ['a session ARN without a session name', 'arn:aws:sts::111122223333:assumed-role/KubeportAdmin'],
    ['a session name with a slash', 'arn:aws:sts::111122223333:assumed-role/KubeportAdmin/a/b'],
    ['a short account', 'arn:aws:iam::1111:user/alice'],
    ['another service', 'arn:aws:s3:::bucket'],
    ['a region where IAM has none', 'arn:aws:iam:eu-west-1:111122223333:user/alice'],
    ['a control character', 'arn:aws:iam::111122223333:user/ali\nce'],
    ['an empty user path segment', 'arn:aws:iam::111122223333:user/ops//alice'],
    ['not an ARN', 'alice'],
  ])('refuses %s', (_name, arn) => {
    expect(() => awsCallerFromArn(arn)).toThrow(/is not a user, role session or root ARN/);
  });
});

describe('awsCallerIdentity', () => {
  const now = new Date('2026-12-02T12:00:00Z');

  it('acts as editor through the aws-iam connector, naming the account, principal and access key as traits', () => {
    const { identity } = awsCallerIdentity(
      { userArn: 'arn:aws:sts::111122223333:assumed-role/KubeportAdmin/bob', accountId: '111122223333', accessKey: 'ASIAX' },
      now,
    );
    expect(identity).toMatchObject({
      username: 'aws:arn:aws:sts::111122223333:assumed-role/KubeportAdmin/bob',
      roles: ['editor'],
      connector: AWS_IAM_CONNECTOR,
      traits: {
        aws_account: ['111122223333'],
        aws_principal: ['arn:aws:iam::111122223333:role/KubeportAdmin'],
        aws_session: ['bob'],
        aws_access_key: ['ASIAX'],
      },
      issuedAt: now.toISOString(),
    });
  });

  it('refuses an authorization without a caller ARN, or whose account is not the ARN’s', () => {
    expect(() => awsCallerIdentity({ accountId: '111122223333' }, now)).toThrow(/names no caller ARN/);
    expect(() => awsCallerIdentity({ userArn: 'arn:aws:iam::111122223333:user/alice', accountId: '444455556666' }, now)).toThrow(
      /account 444455556666 is not the account of/,
    );
  });

  it('no GitHub connector may be named aws-iam, so no certificate speaks as an IAM caller’s connector', () => {
    const connector = {
      kind: 'github',
      version: 'v3',
      metadata: { name: 'aws-iam' },
      spec: { client_id: 'x', client_secret: 'y', redirect_url: 'https://x/cb', teams_to_roles: [] },
    };
    const result = githubConnectorSchema.safeParse(connector);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toContainEqual(expect.stringMatching(/aws-iam are reserved connector names/));
  });
});

describe('sigV4Signature', () => {
  const signature = 'a'.repeat(64);
  const header = (sig: string) =>
    `AWS4-HMAC-SHA256 Credential=AKID/20261202/eu-west-1/execute-api/aws4_request, SignedHeaders=host, Signature=${sig}`;

  it('reads the signature from the Authorization header or from a presigned query', () => {
    expect(sigV4Signature(header(signature), '')).toBe(signature);
    expect(sigV4Signature(undefined, `a=1&X-Amz-Signature=${signature}&b=2`)).toBe(signature);
  });

  it('security: lower-cases the signature, so one AWS accepted in another spelling is remembered as the same', () => {
    const mixed = 'aB'.repeat(32);
    expect(sigV4Signature(header(mixed.toUpperCase()), '')).toBe('ab'.repeat(32));
    expect(sigV4Signature(undefined, `X-Amz-Signature=${mixed}`)).toBe('ab'.repeat(32));
    // Percent-encoded hex, or a lower-case parameter name, is still the same signature.
    expect(sigV4Signature(undefined, `x-amz-signature=%61${signature.slice(1)}`)).toBe(signature);
  });

  it('security: refuses a signature it cannot read rather than let the call through unremembered', () => {
    for (const [authorization, query] of [
      ['Bearer x', ''],
      [header('z'.repeat(64)), ''],
      [header(signature.slice(1)), ''],
      [`${header(signature)}, Signature=${'b'.repeat(64)}`, ''],
      ['AWS4-HMAC-SHA256 Credential=AKID/20261202/eu-west-1/execute-api/aws4_request, SignedHeaders=host', ''],
      [undefined, `X-Amz-Signature=${signature}g`],
      [undefined, `X-Amz-Signature=${signature}&X-Amz-Signature=${'b'.repeat(64)}`],
      [undefined, 'X-Amz-Signature=%zz'],
      [header(signature), `X-Amz-Signature=${'b'.repeat(64)}`],
      [undefined, ''],
      ['', 'a=1'],
    ] as const) {
      expect(() => sigV4Signature(authorization, query), `${authorization} ${query}`).toThrow(
        expect.objectContaining({
          code: 'unauthenticated',
          message: expect.stringMatching(/cannot be guarded against replay \(refused\)/),
        }),
      );
    }
  });
});
