// CA keys in KMS: what a CA rotation creates, signs with, and retires.
import { CreateKeyCommand, DescribeKeyCommand, ScheduleKeyDeletionCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { SigningKeys } from '../../core/ports.js';
import { accountRootOf, caKeyDescription, caKeyPolicyDocument } from './ca-key-policy.js';
import { kmsError } from './kms-errors.js';
import { KmsSigner } from './kms-signer.js';

/**
 * KMS's longest waiting period. A retired key has signed certificates that may still be in use,
 * and a CA certificate may still be trusted after its key stops signing; if a retirement was a
 * mistake (a rotation rolled back), the whole month is there to cancel the deletion, and a key
 * pending deletion costs nothing.
 */
export const RETIRED_KEY_DELETION_DAYS = 30;

export interface KmsSigningKeysOptions {
  /** Names this deployment in each key's description (a label only: it grants nothing). */
  deploymentTag: string;
  /** The only roles the new keys' policy lets sign, read and retire (the auth and CA bootstrap functions'); at least one. */
  signerRoleArns: readonly string[];
  /** Roles the new keys' policy lets read the public key (the admin function's). */
  readerRoleArns: readonly string[];
  /** Names the deployment in each key's description. */
  clusterName: string;
}

export class KmsSigningKeys implements SigningKeys {
  private readonly policy: string;
  private readonly signers = new Map<string, KmsSigner>();

  constructor(
    private readonly kms: KMSClient,
    private readonly options: KmsSigningKeysOptions,
  ) {
    const [first] = options.signerRoleArns;
    if (first === undefined) throw new Error('KmsSigningKeys needs at least one signer role ARN: a key nobody may sign with is useless');
    const root = accountRootOf(first);
    const strangers = [...options.signerRoleArns, ...options.readerRoleArns].filter((arn) => accountRootOf(arn) !== root);
    if (strangers.length > 0) throw new Error(`roles ${strangers.join(', ')} are not in the account of ${first}`);
    this.policy = JSON.stringify(caKeyPolicyDocument(root, { signers: options.signerRoleArns, readers: options.readerRoleArns }));
  }

  async create(type: 'user' | 'host'): Promise<string> {
    try {
      const answer = await this.kms.send(
        new CreateKeyCommand({
          KeySpec: 'ECC_NIST_P256',
          KeyUsage: 'SIGN_VERIFY',
          Origin: 'AWS_KMS',
          // No Tags: tagging at creation needs kms:TagResource, which KMS cannot limit to new
          // keys, so the labels a tag would carry are in the description.
          Description: caKeyDescription({
            deployment: this.options.deploymentTag,
            type,
            createdBy: `a CA rotation of cluster ${this.options.clusterName}`,
          }),
          Policy: this.policy,
          // The policy gives the account root kms:*, so the account's administrators can always
          // change it (through IAM); it just does not let this function's role change it, and KMS's
          // lockout check would refuse such a policy. Granting the role kms:PutKeyPolicy instead
          // would let it rewrite the guard that keeps signing to the signers.
          BypassPolicyLockoutSafetyCheck: true,
        }),
      );
      const arn = answer.KeyMetadata?.Arn;
      if (!arn) throw new Error('CreateKey answered without a key ARN');
      return arn;
    } catch (error) {
      throw kmsError(error, `(new ${type} CA key)`, 'CreateKey');
    }
  }

  /** One signer per key for the life of the process, so its public key is fetched once however often the CAs are re-read. */
  signer(keyId: string): KmsSigner {
    let signer = this.signers.get(keyId);
    if (!signer) {
      // A handful of keys over a process's life (two CAs, a rotation's next keys); the bound only guards a bug.
      if (this.signers.size >= 16) this.signers.delete(this.signers.keys().next().value!);
      signer = new KmsSigner(this.kms, keyId);
      this.signers.set(keyId, signer);
    }
    return signer;
  }

  async retire(keyId: string): Promise<void> {
    this.signers.delete(keyId);
    try {
      await this.kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: RETIRED_KEY_DELETION_DAYS }));
    } catch (error) {
      // Retiring twice is done already; any other state KMS refuses is the operator's to see.
      if (error instanceof Error && error.name === 'KMSInvalidStateException' && (await this.keyState(keyId)) === 'PendingDeletion') return;
      throw kmsError(error, keyId, 'ScheduleKeyDeletion');
    }
  }

  private async keyState(keyId: string): Promise<string | undefined> {
    try {
      return (await this.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState;
    } catch (error) {
      throw kmsError(error, keyId, 'DescribeKey');
    }
  }
}
