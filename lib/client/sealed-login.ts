// The login result the API hands the browser for tsh, sealed (lib/core/client-seal.ts) under the
// 32-byte key that only this tsh and the API know: it went to the API inside the redirect URL over
// the API's own connection, and the browser's callback carries only the sealed result. Neither
// the browser's history nor anything else on the machine can read or alter it.
import { openForClient } from '../core/client-seal.js';
import { ClientError } from './api-client.js';
import { cliCommand } from './command-hint.js';
import type { LoginResponse } from './login.js';

const tampered = () =>
  new ClientError(
    `the login result that reached tsh could not be verified (altered, or sealed for another tsh); nothing was saved; run ${cliCommand('tsh')} login again`,
  );

/** Opens `response` (the callback's query value) with `secretKeyHex`; throws one line on any doubt. */
export function openSealedLogin(secretKeyHex: string, response: string): LoginResponse {
  let sealed: { ciphertext?: unknown; nonce?: unknown };
  try {
    sealed = JSON.parse(response) as typeof sealed;
  } catch {
    throw tampered();
  }
  if (typeof sealed?.ciphertext !== 'string' || typeof sealed.nonce !== 'string') throw tampered();
  let plaintext: string;
  try {
    plaintext = openForClient(secretKeyHex, { ciphertext: sealed.ciphertext, nonce: sealed.nonce });
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
