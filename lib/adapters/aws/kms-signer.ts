// A CA key held in KMS. Only a SHA-256 digest travels (MessageType DIGEST: 32 bytes, whatever the
// certificate's size), and KMS's DER ECDSA-Sig-Value is what X.509 wants as it is.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { Signer } from '../../core/ports.js';
import { KmsKeyUnsuitableError, kmsError } from './kms-errors.js';

const KEY_SPEC = 'ECC_NIST_P256';
const KEY_USAGE = 'SIGN_VERIFY';
const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

interface CheckedPublicKey {
  spki: Uint8Array;
  key: KeyObject;
}

export class KmsSigner implements Signer {
  // The key's public half never changes; fetched once, and concurrent first callers share the request.
  private publicKey?: Promise<CheckedPublicKey>;

  constructor(
    private readonly kms: KMSClient,
    /** A key id or key ARN. */
    readonly keyId: string,
  ) {}

  async publicKeySpki(): Promise<Uint8Array> {
    return (await this.checkedPublicKey()).spki;
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    // Refuses a key of the wrong spec before anything is signed with it (an ECDSA_SHA_256
    // signature from a secp256k1 key would be accepted by KMS and useless in a P-256 chain).
    const { key } = await this.checkedPublicKey();
    const digest = createHash('sha256').update(data).digest();
    let signature: Uint8Array | undefined;
    try {
      const answer = await this.kms.send(
        new SignCommand({ KeyId: this.keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: SIGNING_ALGORITHM }),
      );
      signature = answer.Signature;
    } catch (error) {
      throw kmsError(error, this.keyId, 'Sign');
    }
    // A signature that does not verify (another key answering under this id, a broken endpoint)
    // must not reach a certificate: clients would reject it with a far less helpful error.
    if (!signature || !verify('sha256', data, { key, dsaEncoding: 'der' }, signature)) {
      throw kmsError(new Error('the signature KMS returned does not verify against the key'), this.keyId, 'Sign');
    }
    return signature;
  }

  private checkedPublicKey(): Promise<CheckedPublicKey> {
    if (!this.publicKey) {
      const fetching = this.fetchPublicKey();
      this.publicKey = fetching;
      // A failure is not cached: the next call asks KMS again.
      fetching.catch(() => {
        if (this.publicKey === fetching) this.publicKey = undefined;
      });
    }
    return this.publicKey;
  }

  private async fetchPublicKey(): Promise<CheckedPublicKey> {
    let answer;
    try {
      answer = await this.kms.send(new GetPublicKeyCommand({ KeyId: this.keyId }));
    } catch (error) {
      throw kmsError(error, this.keyId, 'GetPublicKey');
    }
    const needed = `${KEY_SPEC} with usage ${KEY_USAGE}`;
    if (answer.KeySpec !== KEY_SPEC || answer.KeyUsage !== KEY_USAGE || !answer.SigningAlgorithms?.includes(SIGNING_ALGORITHM)) {
      throw new KmsKeyUnsuitableError(
        this.keyId,
        `${answer.KeySpec ?? 'of no key spec'} with usage ${answer.KeyUsage ?? 'unknown'}`,
        needed,
      );
    }
    let key: KeyObject | undefined;
    try {
      key = answer.PublicKey && createPublicKey({ key: Buffer.from(answer.PublicKey), format: 'der', type: 'spki' });
    } catch {
      key = undefined;
    }
    if (!key || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new KmsKeyUnsuitableError(this.keyId, 'answered with a public key that is not a P-256 SubjectPublicKeyInfo', needed);
    }
    // Re-exported, so the certificate carries exactly the key that verifies, not bytes as received.
    return { spki: new Uint8Array(key.export({ type: 'spki', format: 'der' })), key };
  }
}
