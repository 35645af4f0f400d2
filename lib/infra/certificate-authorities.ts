// The two CA keys, each an asymmetric KMS key. Only the principals named here may sign with
// them, whatever IAM policies elsewhere say: the key policy denies kms:Sign to everyone else.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface CertificateAuthoritiesProps {
  /**
   * Roles allowed to sign with the CA keys (the auth function's, the CA bootstrap's).
   * @default none yet: nothing may sign until a signer is granted
   */
  readonly signers?: iam.IRole[];
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
        removalPolicy: RemovalPolicy.RETAIN,
      });
      created.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'OnlyKubeportSignersMaySign',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['kms:Sign'],
          resources: ['*'],
          ...(signerArns.length > 0 ? { conditions: { ArnNotEquals: { 'aws:PrincipalArn': signerArns } } } : {}),
        }),
      );
      return created;
    };
    this.userCaKey = key('UserCaKey', 'Kubeport user CA: signs client certificates');
    this.hostCaKey = key('HostCaKey', "Kubeport host CA: signs the agent's TLS certificate");
  }
}
