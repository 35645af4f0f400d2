// The two CA keys, each an asymmetric KMS key. Every grant on them is in their key policy, the very
// one a rotation puts on the keys it creates at run time (lib/adapters/aws/ca-key-policy.ts): the
// signers sign, read and retire; the readers read the public key; the key policy denies kms:Sign
// to everyone else, whatever IAM policies elsewhere say.
import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { caKeyDescription, caKeyPolicyDocument } from '../adapters/aws/ca-key-policy.js';

export interface CertificateAuthoritiesProps {
  /**
   * Roles allowed to sign with, read and retire the CA keys (the auth function's, the CA bootstrap's).
   * @default none: nothing may sign
   */
  readonly signers?: iam.IRole[];
  /**
   * Roles allowed to read the CA keys' public keys only (the admin function's).
   * @default none
   */
  readonly readers?: iam.IRole[];
  /**
   * Names the deployment in each key's description (a label only: it grants nothing).
   * @default the stack's name
   */
  readonly keyTag?: string;
}

export class CertificateAuthorities extends Construct {
  readonly userCaKey: kms.Key;
  readonly hostCaKey: kms.Key;

  constructor(scope: Construct, id: string, props: CertificateAuthoritiesProps = {}) {
    super(scope, id);
    const roles = {
      signers: (props.signers ?? []).map((role) => role.roleArn),
      readers: (props.readers ?? []).map((role) => role.roleArn),
    };
    const accountRoot = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:root`;
    const deployment = props.keyTag ?? Aws.STACK_NAME;
    const key = (keyId: string, type: 'user' | 'host', signs: string) =>
      new kms.Key(this, keyId, {
        description: caKeyDescription({ deployment, type, createdBy: `the stack at deploy; signs ${signs}` }),
        keySpec: kms.KeySpec.ECC_NIST_P256,
        keyUsage: kms.KeyUsage.SIGN_VERIFY,
        policy: iam.PolicyDocument.fromJson(caKeyPolicyDocument(accountRoot, roles)),
        // A CA key outlives the stack: certificates and kubeconfigs in the field chain to it.
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.userCaKey = key('UserCaKey', 'user', 'client certificates');
    this.hostCaKey = key('HostCaKey', 'host', "the agent's TLS certificate");
  }

  get keys(): kms.Key[] {
    return [this.userCaKey, this.hostCaKey];
  }
}
