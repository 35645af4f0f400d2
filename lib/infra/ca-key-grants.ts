// What IAM lets the CA functions do with KMS CA keys: only create them. Every grant on a CA key,
// deploy-time or rotated, is in the key's own policy (lib/adapters/aws/ca-key-policy.ts), which
// names the roles; no IAM statement names a CA key, a key pattern or a tag. Tags would decide
// nothing anyway: whoever may tag a key could then give it the tag a statement trusts.
import * as iam from 'aws-cdk-lib/aws-iam';

/** The Sid of the one KMS statement the auth role's IAM policy has for CA keys. */
export const CREATE_CA_KEYS_SID = 'CreateCaKeys';

/**
 * Rotation: create a P-256 signing key whose material KMS makes, with a policy that skips KMS's
 * lockout check (KmsSigningKeys sends BypassPolicyLockoutSafetyCheck: the policy keeps the account
 * root's kms:*, so the key stays manageable; the role never gets kms:PutKeyPolicy). Not tagged:
 * CreateKey with Tags needs kms:TagResource, which KMS cannot limit to the key being created.
 */
export function grantCaKeyCreation(role: iam.IRole): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: CREATE_CA_KEYS_SID,
      actions: ['kms:CreateKey'],
      // CreateKey names no key: it can only be conditioned, not scoped.
      resources: ['*'],
      conditions: {
        StringEquals: { 'kms:KeySpec': 'ECC_NIST_P256', 'kms:KeyUsage': 'SIGN_VERIFY', 'kms:KeyOrigin': 'AWS_KMS' },
        Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' },
      },
    }),
  );
}
