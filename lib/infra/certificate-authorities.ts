// The two CA keys, each an asymmetric KMS key. Only the principals named here may sign with
// them, whatever IAM policies elsewhere say: the key policy denies kms:Sign to everyone else.
// Keys a rotation creates at run time (KmsSigningKeys) carry the same tags and the very same
// policy, built by one function (lib/adapters/aws/ca-key-policy.ts).
import { Aws, RemovalPolicy, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { caKeyPolicyDocument } from '../adapters/aws/ca-key-policy.js';
import { CA_TAG_KEY, CA_TYPE_TAG_KEY } from '../adapters/aws/kms-signing-keys.js';

export interface CertificateAuthoritiesProps {
  /**
   * Roles allowed to sign with the CA keys (the auth function's, the CA bootstrap's).
   * @default none: nothing may sign
   */
  readonly signers?: iam.IRole[];
  /**
   * The value of the `kubeport:ca` tag on both keys; the auth function may retire (schedule the
   * deletion of) only keys so tagged once a rotation has replaced them.
   * @default no tag
   */
  readonly keyTag?: string;
}

export class CertificateAuthorities extends Construct {
  readonly userCaKey: kms.Key;
  readonly hostCaKey: kms.Key;

  constructor(scope: Construct, id: string, props: CertificateAuthoritiesProps = {}) {
    super(scope, id);
    const signerArns = (props.signers ?? []).map((role) => role.roleArn);
    const accountRoot = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:root`;
    const key = (keyId: string, type: 'user' | 'host', description: string) => {
      const created = new kms.Key(this, keyId, {
        description,
        keySpec: kms.KeySpec.ECC_NIST_P256,
        keyUsage: kms.KeyUsage.SIGN_VERIFY,
        policy: iam.PolicyDocument.fromJson(caKeyPolicyDocument(accountRoot, signerArns)),
        // A CA key outlives the stack: certificates and kubeconfigs in the field chain to it.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      if (props.keyTag !== undefined) {
        Tags.of(created).add(CA_TAG_KEY, props.keyTag);
        Tags.of(created).add(CA_TYPE_TAG_KEY, type);
      }
      return created;
    };
    this.userCaKey = key('UserCaKey', 'user', 'Kubeport user CA: signs client certificates');
    this.hostCaKey = key('HostCaKey', 'host', "Kubeport host CA: signs the agent's TLS certificate");
  }

  get keys(): kms.Key[] {
    return [this.userCaKey, this.hostCaKey];
  }
}
