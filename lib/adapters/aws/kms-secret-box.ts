// Seals small secrets (TOTP seeds, connector secrets) with a symmetric KMS key. The encryption
// context names the purpose: KMS binds it to the ciphertext, so a value sealed for one purpose
// (or by another deployment) does not open for another, even with the same key.
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { KubeportError } from '../../core/errors.js';
import { cachedLoader } from '../../core/fresh-cache.js';
import type { Clock, SecretBox } from '../../core/ports.js';
import { kmsError } from './kms-errors.js';

const SEALED_PREFIX = 'kms1.';
// KMS Encrypt's limit; a SecretBox holds seeds and client secrets, far smaller.
const MAX_PLAINTEXT_BYTES = 4096;
// A KMS ciphertext of 4096 bytes of plaintext is a little over that; anything much larger is not one of ours.
const MAX_SEALED_CHARS = 8192;
export const PURPOSE_CONTEXT_KEY = 'kubeport:purpose';

export interface OpenedCacheOptions {
  clock: Clock;
  /** How long an opened value is kept in memory. */
  ttlMs: number;
}

export class KmsSecretBox implements SecretBox {
  private readonly opened: (sealed: string) => Promise<string>;

  constructor(
    private readonly kms: KMSClient,
    /** The symmetric (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT) key's id or ARN. */
    private readonly keyId: string,
    /** What the sealed values are for, e.g. `kubeport/<cluster>/secrets`: part of the encryption context. */
    private readonly purpose: string,
    /**
     * Keeps opened values in memory for a while: a GitHub login opens the connector's secret at its
     * start and at its callback, each a KMS Decrypt (a few ms) without it. Omit to ask KMS each time.
     */
    cache?: OpenedCacheOptions,
  ) {
    const open = (sealed: string) => this.decrypt(sealed);
    // Few distinct sealed values exist (connectors, TOTP seeds of users signing in now); the bound only guards a flood.
    this.opened = cache ? cachedLoader(open, cache.clock, cache.ttlMs, 1_000) : open;
  }

  private get context(): Record<string, string> {
    return { [PURPOSE_CONTEXT_KEY]: this.purpose };
  }

  async seal(plaintext: string): Promise<string> {
    const bytes = Buffer.from(plaintext, 'utf8');
    if (bytes.length === 0 || bytes.length > MAX_PLAINTEXT_BYTES) {
      throw new KubeportError('payload_too_large', `a sealed secret holds 1 to ${MAX_PLAINTEXT_BYTES} bytes; this one has ${bytes.length}`);
    }
    try {
      const answer = await this.kms.send(new EncryptCommand({ KeyId: this.keyId, Plaintext: bytes, EncryptionContext: this.context }));
      if (!answer.CiphertextBlob) throw new Error('Encrypt answered without a ciphertext');
      return `${SEALED_PREFIX}${Buffer.from(answer.CiphertextBlob).toString('base64url')}`;
    } catch (error) {
      throw kmsError(error, this.keyId, 'Encrypt');
    }
  }

  open(sealed: string): Promise<string> {
    return this.opened(sealed);
  }

  private async decrypt(sealed: string): Promise<string> {
    const body = sealed.startsWith(SEALED_PREFIX) && sealed.length <= MAX_SEALED_CHARS ? sealed.slice(SEALED_PREFIX.length) : undefined;
    if (body === undefined || !/^[A-Za-z0-9_-]+$/.test(body)) {
      throw new KubeportError('internal', 'a stored secret is not one KMS sealed (unknown format); set it again');
    }
    try {
      // KeyId pins the key: a ciphertext of another key this role may use is refused, not opened.
      const answer = await this.kms.send(
        new DecryptCommand({ KeyId: this.keyId, CiphertextBlob: Buffer.from(body, 'base64url'), EncryptionContext: this.context }),
      );
      if (!answer.Plaintext) throw new Error('Decrypt answered without a plaintext');
      return Buffer.from(answer.Plaintext).toString('utf8');
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') {
        throw new KubeportError(
          'internal',
          `a stored secret was not sealed by KMS key ${this.keyId} for ${this.purpose} (${name}); it was altered or copied from elsewhere: set it again`,
          { cause: error },
        );
      }
      throw kmsError(error, this.keyId, 'Decrypt');
    }
  }
}
