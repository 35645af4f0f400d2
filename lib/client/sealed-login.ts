// The login result the API hands the browser for tsh: AES-256-GCM under the 32-byte key that only
// this tsh and the API know (it went to the API inside the redirect URL, over the API's own
// connection, never through the browser's address bar), so neither the browser's history nor
// anything else on the machine can read or alter it. The shape is Teleport's: the query's
// `response` is JSON {ciphertext, nonce}, both base64; the ciphertext ends with GCM's 16-byte tag,
// as Go's cipher.AEAD.Seal writes it; there is no associated data.
import { createDecipheriv } from 'node:crypto';
import { ClientError } from './api-client.js';
import { cliCommand } from './command-hint.js';
import type { LoginResponse } from './login.js';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const tampered = () =>
  new ClientError(
    `the login result that reached tsh could not be verified (altered, or sealed for another tsh); nothing was saved; run ${cliCommand('tsh')} login again`,
  );

const base64 = (value: unknown): Buffer | undefined =>
  typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value) ? Buffer.from(value, 'base64') : undefined;

/** Opens `response` (the callback's query value) with `secretKeyHex`; throws one line on any doubt. */
export function openSealedLogin(secretKeyHex: string, response: string): LoginResponse {
  const key = Buffer.from(secretKeyHex, 'hex');
  if (key.length !== KEY_BYTES) throw new Error('internal: the callback key must be 32 bytes');
  let sealed: { ciphertext?: unknown; nonce?: unknown };
  try {
    sealed = JSON.parse(response) as typeof sealed;
  } catch {
    throw tampered();
  }
  const nonce = base64(sealed?.nonce);
  const ciphertext = base64(sealed?.ciphertext);
  if (!nonce || nonce.length !== NONCE_BYTES || !ciphertext || ciphertext.length < TAG_BYTES) throw tampered();
  let plaintext: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
    plaintext = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw tampered();
  }
  return loginResponseFrom(plaintext);
}

/** The API sealed it, so it is authentic; still, a result tsh cannot use is said so, not crashed on. */
function loginResponseFrom(plaintext: string): LoginResponse {
  let value: Partial<LoginResponse>;
  try {
    value = JSON.parse(plaintext) as Partial<LoginResponse>;
  } catch {
    value = {};
  }
  if (typeof value?.cert !== 'string' || typeof value.username !== 'string' || !Array.isArray(value.roles)) {
    throw new ClientError(
      `the proxy sent a login result without a certificate; run ${cliCommand('tsh')} login again, and tell your admin if it repeats`,
    );
  }
  return {
    username: value.username,
    cert: value.cert,
    expires: String(value.expires ?? ''),
    roles: value.roles,
    traits: value.traits ?? {},
  };
}
