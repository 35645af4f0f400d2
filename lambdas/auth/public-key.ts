// The client's public key as every login takes it: PEM, ECDSA P-256, turned into DER SPKI.
import { createPublicKey } from 'node:crypto';
import { badRequest } from '../../lib/core/errors.js';

export function publicKeySpki(pem: string): Uint8Array {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw badRequest('public_key must be an ECDSA P-256 key');
    }
    return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
  } catch (error) {
    if (error instanceof Error && error.name === 'KubeportError') throw error;
    throw badRequest('public_key is not a PEM public key');
  }
}
