// The login result sealed for the one client that asked for it, as Teleport's tsh expects:
// AES-256-GCM under the 32-byte key the client put in its redirect URL (secret_key, hex), a random
// 12-byte nonce, no associated data; the 16-byte tag is appended to the ciphertext (as Go's
// gcm.Seal does). Travels as JSON {ciphertext, nonce}, both standard base64.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { badRequest } from './errors.js';

export interface SealedForClient {
  ciphertext: string;
  nonce: string;
}

const TAG_BYTES = 16;

export function sealForClient(secretKeyHex: string, plaintext: string, nonce: Uint8Array): SealedForClient {
  if (nonce.length !== 12) throw new Error('the nonce must be 12 bytes');
  const cipher = createCipheriv('aes-256-gcm', keyOf(secretKeyHex), nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { ciphertext: body.toString('base64'), nonce: Buffer.from(nonce).toString('base64') };
}

/** Throws when the key is wrong or a byte was changed (GCM authenticates the whole ciphertext). */
export function openForClient(secretKeyHex: string, sealed: SealedForClient): string {
  const body = Buffer.from(sealed.ciphertext, 'base64');
  const nonce = Buffer.from(sealed.nonce, 'base64');
  if (nonce.length !== 12 || body.length < TAG_BYTES) throw badRequest('the sealed login response is malformed');
  const decipher = createDecipheriv('aes-256-gcm', keyOf(secretKeyHex), nonce);
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw badRequest(
      "the login response does not open with this login's key (tampered with, or meant for another login); run tsh login again",
    );
  }
}

function keyOf(secretKeyHex: string): Buffer {
  if (!/^[0-9a-f]{64}$/.test(secretKeyHex)) throw badRequest('secret_key must be 64 lowercase hex digits');
  return Buffer.from(secretKeyHex, 'hex');
}
