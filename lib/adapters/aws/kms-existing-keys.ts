// The CA keys of a function that never creates or retires one (the admin function verifies with
// them, the CA bootstrap self-signs the first certificates with the keys the stack made): signers
// of existing keys only. Only the auth function, which runs rotations, gets KmsSigningKeys.
import type { KMSClient } from '@aws-sdk/client-kms';
import { KubeportError } from '../../core/errors.js';
import type { SigningKeys } from '../../core/ports.js';
import { KmsSigner } from './kms-signer.js';

export class KmsExistingKeys implements SigningKeys {
  private readonly signers = new Map<string, KmsSigner>();

  constructor(
    private readonly kms: KMSClient,
    /** Which function this is, for the refusal's message. */
    private readonly holder: string,
  ) {}

  async create(): Promise<string> {
    throw this.refusal('create');
  }

  /** One signer per key for the life of the process: its public key is fetched once. */
  signer(keyId: string): KmsSigner {
    let signer = this.signers.get(keyId);
    if (!signer) {
      signer = new KmsSigner(this.kms, keyId);
      this.signers.set(keyId, signer);
    }
    return signer;
  }

  async retire(): Promise<void> {
    throw this.refusal('retire');
  }

  private refusal(what: string): KubeportError {
    return new KubeportError('invalid_config', `the ${this.holder} never ${what}s CA keys; the auth function runs CA rotations`);
  }
}
