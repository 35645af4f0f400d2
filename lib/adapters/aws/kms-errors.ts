// What a failed KMS call means to an operator: which key, what KMS said, and what to do. The
// message never carries request data (digests, plaintexts), only names.
import { KubeportError } from '../../core/errors.js';

/** A KMS key that is not what Kubeport needs (wrong spec or usage): fixed by pointing at another key. */
export class KmsKeyUnsuitableError extends KubeportError {
  constructor(
    readonly keyId: string,
    found: string,
    needed: string,
  ) {
    super('invalid_config', `KMS key ${keyId} is ${found}, and Kubeport needs ${needed}; create such a key and use its ARN instead`);
  }
}

/** KMS refused or failed an operation on a key. */
export class KmsRequestError extends KubeportError {
  constructor(
    readonly keyId: string,
    readonly operation: string,
    /** The AWS error name (AccessDeniedException, KMSInvalidStateException...). */
    readonly awsError: string,
    code: ConstructorParameters<typeof KubeportError>[0],
    message: string,
    options: { cause: unknown; retryAfterSeconds?: number },
  ) {
    super(code, message, options);
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'UnknownError';
}

/**
 * The KubeportError for `error` thrown by kms:`operation` on `keyId`. Errors a client is shown
 * (rate_limited, unavailable) say only what happened and when to retry: key ARNs, the account and
 * KMS's own words are for the operator, in the hidden (invalid_config, internal) ones and in `cause`.
 */
export function kmsError(error: unknown, keyId: string, operation: string): KubeportError {
  if (error instanceof KubeportError) return error;
  const name = errorName(error);
  const said = `KMS refused kms:${operation} on key ${keyId} (${name}: ${error instanceof Error ? error.message : String(error)})`;
  const fail = (code: ConstructorParameters<typeof KubeportError>[0], fix: string) =>
    new KmsRequestError(keyId, operation, name, code, `${said}; ${fix}`, { cause: error });
  const shown = (code: 'rate_limited' | 'unavailable', message: string, retryAfterSeconds?: number) =>
    new KmsRequestError(keyId, operation, name, code, message, {
      cause: error,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    });
  switch (name) {
    case 'AccessDeniedException':
      return fail(
        'invalid_config',
        operation === 'Sign'
          ? "this function's role is not one of the key policy's CA signers; deploy the stack again so the policy lists it"
          : "grant this function's role the permission: a CA key's policy names the roles that may use it, the secrets key is granted in the role's IAM policy (the stack does both; deploy it again)",
      );
    case 'NotFoundException':
      return fail(
        'invalid_config',
        'the key does not exist in this account and region; check the key ARN the CA resource or the stack names',
      );
    case 'KMSInvalidStateException':
      return fail(
        'invalid_config',
        `the key is pending deletion or unavailable; cancel a deletion with \`aws kms cancel-key-deletion --key-id ${keyId}\` and enable it, or rotate the CA to a new key`,
      );
    case 'DisabledException':
      return fail('invalid_config', `the key is disabled; enable it with \`aws kms enable-key --key-id ${keyId}\``);
    case 'MalformedPolicyDocumentException':
      return fail(
        'invalid_config',
        "KMS refused the new key's policy: every role it names (KUBEPORT_CA_SIGNER_ROLE_ARNS, KUBEPORT_CA_READER_ROLE_ARNS) must exist in this account; deploy the stack again so they name its current roles",
      );
    case 'InvalidKeyUsageException':
      return new KmsKeyUnsuitableError(
        keyId,
        `refused for ${operation} (${name})`,
        'an ECC_NIST_P256 SIGN_VERIFY key for signing, a SYMMETRIC_DEFAULT key for sealing',
      );
    case 'ThrottlingException':
    case 'LimitExceededException':
    case 'TooManyRequestsException':
      // The operator's fix (a higher quota in Service Quotas) shows in KMS's CloudWatch metrics, not here.
      return shown('rate_limited', `the key service is busy (kms:${operation} throttled); try again in a second`, 1);
    case 'KMSInternalException':
    case 'DependencyTimeoutException':
    case 'KeyUnavailableException':
    case 'TimeoutError':
      return shown('unavailable', `the key service could not answer (kms:${operation}); try again shortly`);
    default:
      return fail('internal', 'see the cause in the log');
  }
}
