// The key policy of a CA key, in one place: the stack (lib/infra) puts it on the keys it creates
// at deploy, KmsSigningKeys on the keys a rotation creates. The guard is a Deny, so no IAM policy
// anywhere in the account (not even an administrator's kms:*) lets another principal sign.

/** The Sid of the guard statement, so a test or a reviewer can find it. */
export const CA_SIGN_GUARD_SID = 'OnlyKubeportSignersMaySign';

export interface PolicyStatementJson {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal: { AWS: string };
  Action: string | string[];
  Resource: string;
  Condition?: Record<string, Record<string, string[]>>;
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
 * A CA key's whole policy: the account may administer the key (and delegate through IAM, which
 * is what keeps the key manageable), and the guard. `accountRootArn` is `arn:<partition>:iam::<account>:root`.
 */
export function caKeyPolicyDocument(accountRootArn: string, signerRoleArns: readonly string[]) {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'AccountAdministersKey', Effect: 'Allow', Principal: { AWS: accountRootArn }, Action: 'kms:*', Resource: '*' },
      caSignGuardStatement(signerRoleArns),
    ],
  };
}

/** The account root of the account a role ARN (`arn:aws:iam::123456789012:role/...`) belongs to. */
export function accountRootOf(roleArn: string): string {
  const match = /^arn:(aws[a-z-]*):iam::(\d{12}):role\//.exec(roleArn);
  if (!match) throw new Error(`${roleArn} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`);
  return `arn:${match[1]}:iam::${match[2]}:root`;
}
