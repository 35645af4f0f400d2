import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { CertificateAuthorities } from '../../lib/infra/certificate-authorities.js';
import { KubeportStack } from '../../lib/infra/kubeport-stack.js';

describe('KubeportStack', () => {
  const app = new App();
  const stack = new KubeportStack(app, 'Test');
  Aspects.of(app).add(new AwsSolutionsChecks());
  const template = Template.fromStack(stack);

  it('passes cdk-nag AwsSolutions with no suppressions', () => {
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  it("creates the tables with the adapters' key schemas, TTL and on-demand billing", () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 3);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
    // The audit table: by user and by event type with the shard in the key, by session id.
    const indexKey = (name: string, partition: string) =>
      Match.objectLike({
        IndexName: name,
        KeySchema: [
          { AttributeName: partition, KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        indexKey('by_user', 'user_pk'),
        indexKey('by_session', 'sid'),
        indexKey('by_type', 'type_pk'),
        indexKey('by_namespace', 'namespace_pk'),
      ],
    });
  });

  it('keeps buckets private, encrypted and TLS-only', () => {
    template.allResourcesProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.allResourcesProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('makes each CA an ECC P-256 signing key that denies kms:Sign to all but the named signers', () => {
    const scoped = new Stack(new App(), 'Scoped');
    const signer = new iam.Role(scoped, 'AuthFunction', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    new CertificateAuthorities(scoped, 'Cas', { signers: [signer] });
    const keys = Template.fromStack(scoped);
    keys.resourceCountIs('AWS::KMS::Key', 2);
    keys.allResourcesProperties('AWS::KMS::Key', {
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'OnlyKubeportSignersMaySign',
            Effect: 'Deny',
            Action: 'kms:Sign',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': [Match.anyValue()] } },
          }),
        ]),
      },
    });
  });
});
