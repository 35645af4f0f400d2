// The two CA keys, each an asymmetric KMS key. Only the principals named here may sign with
// them, whatever IAM policies elsewhere say: the key policy denies kms:Sign to everyone else.
// Keys a rotation creates at run time carry the same tag and the same guard (see ca-key-grants.ts).
import { RemovalPolicy, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** The tag every CA key of a deployment carries; its value names the deployment. */
export const CA_KEY_TAG_KEY = 'kubeport:ca';

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
    const key = (keyId: string, description: string) => {
      const created = new kms.Key(this, keyId, {
        description,
        keySpec: kms.KeySpec.ECC_NIST_P256,
        keyUsage: kms.KeyUsage.SIGN_VERIFY,
        // A CA key outlives the stack: certificates and kubeconfigs in the field chain to it.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      created.addToResourcePolicy(onlySignersMaySign(signerArns));
      if (props.keyTag !== undefined) Tags.of(created).add(CA_KEY_TAG_KEY, props.keyTag);
      return created;
    };
    this.userCaKey = key('UserCaKey', 'Kubeport user CA: signs client certificates');
    this.hostCaKey = key('HostCaKey', "Kubeport host CA: signs the agent's TLS certificate");
  }

  get keys(): kms.Key[] {
    return [this.userCaKey, this.hostCaKey];
  }
}

/** The guard: a Deny, so not even an administrator's kms:* in IAM lets another principal sign. */
function onlySignersMaySign(signerArns: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'OnlyKubeportSignersMaySign',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:Sign'],
    resources: ['*'],
    ...(signerArns.length > 0 ? { conditions: { ArnNotEquals: { 'aws:PrincipalArn': signerArns } } } : {}),
  });
}
