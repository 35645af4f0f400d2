// The key policy of a CA key, in one place: the stack (lib/infra) puts it on the keys it creates
// at deploy, KmsSigningKeys on the keys a rotation creates. It is the one source of every grant on
// a CA key: no IAM policy of Kubeport's roles names a CA key, so what a role may do with one is
// read here and nowhere else. The guard is a Deny, so no IAM policy anywhere in the account (not
// even an administrator's kms:*) lets another principal sign.

/** The Sid of the guard statement, so a test or a reviewer can find it. */
export const CA_SIGN_GUARD_SID = 'OnlyKubeportSignersMaySign';

/** What a signer role may do with a CA key: sign, read it, and retire it once a rotation replaced it. */
export const CA_SIGNER_ACTIONS = ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey', 'kms:ScheduleKeyDeletion'] as const;
/** What a reader role may do with a CA key: check a trusted CA certificate against its public key. */
export const CA_READER_ACTIONS = ['kms:GetPublicKey', 'kms:DescribeKey'] as const;

export interface PolicyStatementJson {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal: { AWS: string | string[] };
  Action: string | string[];
  Resource: string;
  Condition?: Record<string, Record<string, string[]>>;
}

/** The roles a CA key's policy names. */
export interface CaKeyRoles {
  /** Sign with, read and retire the key: the auth function's role and the CA bootstrap's. At least one. */
  signers: readonly string[];
  /** Read the public key only: the admin function's role, which verifies signed calls. */
  readers: readonly string[];
}

/**
 * Denies kms:Sign to every principal whose aws:PrincipalArn is not one of `signerRoleArns` (a
 * Lambda's role ARN: its sessions carry it as aws:PrincipalArn). With no signer at all, nobody
 * may sign. ArnNotEquals, not a NotPrincipal: NotPrincipal with Deny would have to name each
 * assumed-role session.
 */
export function caSignGuardStatement(signerRoleArns: readonly string[]): PolicyStatementJson {
  return {
    Sid: CA_SIGN_GUARD_SID,
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Action: 'kms:Sign',
    Resource: '*',
    ...(signerRoleArns.length > 0 ? { Condition: { ArnNotEquals: { 'aws:PrincipalArn': [...signerRoleArns] } } } : {}),
  };
}

/**
 * A CA key's whole policy. The account root administers the key (kms:*): that keeps the key
 * manageable by the account's administrators through IAM, and is why a rotation may skip KMS's
 * lockout check. The named roles get their grants here, not from IAM, so that no tag or wildcard
 * in an IAM policy decides which keys a Kubeport role may use. `accountRootArn` is
 * `arn:<partition>:iam::<account>:root`.
 *
 * KMS binds an Allow's named role to that role's unique id: a role deleted and created again under
 * the same name loses the Allow of keys created before (the deploy-time keys get their policy
 * again at the next deploy; a rotated key's policy an administrator puts back). The Deny guard
 * compares ARNs as strings and is not affected.
 */
export function caKeyPolicyDocument(accountRootArn: string, roles: CaKeyRoles) {
  const allow = (Sid: string, principals: readonly string[], actions: readonly string[]): PolicyStatementJson[] =>
    principals.length === 0
      ? []
      : [
          // One principal as a string, as CloudFormation and KMS store it, so a template and a rotated key compare equal.
          {
            Sid,
            Effect: 'Allow',
            Principal: { AWS: principals.length === 1 ? principals[0]! : [...principals] },
            Action: [...actions],
            Resource: '*',
          },
        ];
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'AccountAdministersKey', Effect: 'Allow', Principal: { AWS: accountRootArn }, Action: 'kms:*', Resource: '*' },
      caSignGuardStatement(roles.signers),
      ...allow('SignersSignReadAndRetire', roles.signers, CA_SIGNER_ACTIONS),
      ...allow('ReadersReadPublicKey', roles.readers, CA_READER_ACTIONS),
    ],
  };
}

/**
 * A CA key's description, which carries the labels tags would (a CA key has no tags: creating a
 * tagged key needs kms:TagResource, which would let the auth role re-tag any key of the account).
 */
export function caKeyDescription(labels: { deployment: string; type: 'user' | 'host'; createdBy: string }): string {
  return `Kubeport ${labels.type} CA key (kubeport:ca=${labels.deployment} kubeport:ca-type=${labels.type}), created by ${labels.createdBy}`;
}

/** The account root of the account a role ARN (`arn:aws:iam::123456789012:role/...`) belongs to. */
export function accountRootOf(roleArn: string): string {
  const match = /^arn:(aws[a-z-]*):iam::(\d{12}):role\//.exec(roleArn);
  if (!match) throw new Error(`${roleArn} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`);
  return `arn:${match[1]}:iam::${match[2]}:root`;
}
