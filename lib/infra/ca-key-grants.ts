// What the CA signers may do with KMS, beyond what the key policies allow. The deploy-time keys
// are named; keys a rotation creates are known only by their `kubeport:ca` tag, so the rotation
// grants are conditioned on it, and creating a key requires the tag, the key spec and the usage.
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { CA_TAG_KEY, CA_TYPE_TAG_KEY } from '../adapters/aws/kms-signing-keys.js';

/** How KmsSigner signs: ECDSA P-256 over a SHA-256 digest it computed. */
const SIGNING = { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'DIGEST' };

/** Sign with, and read the public key of, the named CA keys. */
export function grantCaSigning(role: iam.IRole, keys: kms.IKey[]): void {
  const resources = keys.map((key) => key.keyArn);
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Sign'], resources, conditions: { StringEquals: SIGNING } }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GetPublicKey', 'kms:DescribeKey'], resources }));
}

/**
 * Read the public keys of this deployment's CA keys, deploy-time and rotated: verifiers check each
 * trusted CA certificate against its key before trusting it. No signing.
 */
export function grantCaKeyReading(role: iam.IRole, keys: kms.IKey[], tag: string): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['kms:GetPublicKey', 'kms:DescribeKey'], resources: keys.map((key) => key.keyArn) }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadTaggedCaKeys',
      actions: ['kms:GetPublicKey', 'kms:DescribeKey'],
      resources: [ACCOUNT_KEYS_ARN],
      conditions: { StringEquals: { [`aws:ResourceTag/${CA_TAG_KEY}`]: tag } },
    }),
  );
}

/** Every KMS key of this account and region; narrowed by the tag conditions of each statement. */
export const ACCOUNT_KEYS_ARN = `arn:${Aws.PARTITION}:kms:${Aws.REGION}:${Aws.ACCOUNT_ID}:key/*`;

/**
 * Rotation: create P-256 signing keys tagged `kubeport:ca=<tag>`, then sign with, read and retire
 * only P-256 signing keys carrying that tag. The policies of the deploy-time keys stay as the
 * stack wrote them.
 */
export function grantCaKeyRotation(role: iam.IRole, tag: string, deployTimeKeys: kms.IKey[]): void {
  const requestTag = {
    StringEquals: { [`aws:RequestTag/${CA_TAG_KEY}`]: tag, [`aws:RequestTag/${CA_TYPE_TAG_KEY}`]: ['user', 'host'] },
    'ForAllValues:StringEquals': { 'aws:TagKeys': [CA_TAG_KEY, CA_TYPE_TAG_KEY] },
  };
  // KmsSigningKeys names the spec and usage in its request; it sends no Origin, so none is required here.
  const keyShape = { 'kms:KeySpec': 'ECC_NIST_P256', 'kms:KeyUsage': 'SIGN_VERIFY' };
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'CreateTaggedCaKeys',
      actions: ['kms:CreateKey'],
      // CreateKey names no key: it can only be conditioned, not scoped.
      resources: ['*'],
      conditions: { ...requestTag, StringEquals: { ...requestTag.StringEquals, ...keyShape } },
    }),
  );
  // CreateKey's Tags need kms:TagResource on all keys of the account and region: KMS offers no
  // condition that tells tagging at creation from tagging an existing key, so the tag is pinned
  // instead, and what a tag unlocks below is further limited to P-256 signing keys.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'TagCaKeysAtCreation', actions: ['kms:TagResource'], resources: ['*'], conditions: requestTag }),
  );
  const taggedKey = { [`aws:ResourceTag/${CA_TAG_KEY}`]: tag, 'kms:KeySpec': 'ECC_NIST_P256', 'kms:KeyUsage': 'SIGN_VERIFY' };
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'SignWithTaggedCaKeys',
      actions: ['kms:Sign'],
      resources: [ACCOUNT_KEYS_ARN],
      conditions: { StringEquals: { ...taggedKey, ...SIGNING } },
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadAndRetireTaggedCaKeys',
      actions: ['kms:GetPublicKey', 'kms:DescribeKey', 'kms:ScheduleKeyDeletion'],
      resources: [ACCOUNT_KEYS_ARN],
      conditions: { StringEquals: taggedKey },
    }),
  );
  // CreateKey with a policy passes KMS's lockout check only if the creator could then change that
  // policy; the policy KmsSigningKeys gives is the one the stack gives (caKeyPolicyDocument).
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'PolicyOfTaggedCaKeys',
      actions: ['kms:PutKeyPolicy'],
      resources: [ACCOUNT_KEYS_ARN],
      conditions: { StringEquals: taggedKey },
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DeployTimeCaKeyPoliciesStay',
      effect: iam.Effect.DENY,
      actions: ['kms:PutKeyPolicy'],
      resources: deployTimeKeys.map((key) => key.keyArn),
    }),
  );
}
