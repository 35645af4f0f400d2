// The login result the API hands the browser for tsh, sealed (lib/core/client-seal.ts) under the
// 32-byte key that only this tsh and the API know: it went to the API inside the redirect URL over
// the API's own connection, and the browser's callback carries only the sealed result. Neither
// the browser's history nor anything else on the machine can read or alter it.
import { openForClient } from '../core/client-seal.js';
import { ClientError } from './api-client.js';
import { cliCommand } from './command-hint.js';
import type { LoginResponse } from './login.js';

/** The callback's `response` did not open with this login's key: not from this login; ignored. */
export class NotFromThisLogin extends Error {}

/** What the API sealed: the login, or the one-line reason it failed (Teleport sends that as plain err=). */
export type SealedResult = { login: LoginResponse } | { error: string };

/** Opens `response` (the callback's query value) with `secretKeyHex`; NotFromThisLogin on any doubt. */
export function openSealedResult(secretKeyHex: string, response: string): SealedResult {
  let sealed: { ciphertext?: unknown; nonce?: unknown };
  try {
    sealed = JSON.parse(response) as typeof sealed;
  } catch {
    throw new NotFromThisLogin();
  }
  if (typeof sealed?.ciphertext !== 'string' || typeof sealed.nonce !== 'string') throw new NotFromThisLogin();
  let plaintext: string;
  try {
    plaintext = openForClient(secretKeyHex, { ciphertext: sealed.ciphertext, nonce: sealed.nonce });
  } catch {
    throw new NotFromThisLogin();
  }
  let value: unknown;
  try {
    value = JSON.parse(plaintext);
  } catch {
    value = {};
  }
  const error = (value as { error?: unknown } | null)?.error;
  if (typeof error === 'string') return { error };
  return { login: loginResponseFrom(value) };
}

/** The API sealed it, so it is authentic; still, a result tsh cannot use is said so, not crashed on. */
function loginResponseFrom(parsed: unknown): LoginResponse {
  const value = parsed as Partial<LoginResponse> | null;
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
