// Local users' login: with an invite, enroll (TOTP secret, then a password); without, password
// and code. Only the public half of the key pair is sent.
import type { ApiClient } from './api-client.js';
import type { TshDeps } from './commands/deps.js';
import { askCode, askNewPassword } from './login-prompts.js';
import type { KeyPair, LoginResponse } from './login.js';

export interface LocalLoginOptions {
  user: string;
  invite?: string;
  ttlSeconds?: number;
}

export async function localLogin(deps: TshDeps, api: ApiClient, keys: KeyPair, options: LocalLoginOptions): Promise<LoginResponse> {
  const { user } = options;
  const ttl = options.ttlSeconds ? { ttl_seconds: options.ttlSeconds } : {};
  if (options.invite) {
    const enrollment = await api.call<{ otpauth_uri: string }>('POST', '/webapi/local/invite/totp', { user, invite: options.invite });
    deps.out.stderr.write(
      `\nWelcome, ${user}. Add this account to your authenticator app (TOTP):\n  ${enrollment.otpauth_uri}\n` +
        '(Added it on an earlier try with this invite? It is the same account: use its code.)\n',
    );
    if (deps.prompt.interactive) {
      // Loaded only here: drawing a QR code is the one thing qrcode is for.
      const qrcode = await import('qrcode');
      deps.out.stderr.write(`${await qrcode.toString(enrollment.otpauth_uri, { type: 'terminal', small: true })}\n`);
    }
    const password = await askNewPassword(deps.prompt, deps.out.stderr);
    const code = await askCode(deps.prompt, deps.out.stderr);
    return api.call<LoginResponse>('POST', '/webapi/local/invite/complete', {
      user,
      invite: options.invite,
      password,
      totp_code: code,
      public_key: keys.publicKeyPem,
      ...ttl,
    });
  }
  const password = await deps.prompt.ask(`Password for ${user}: `, { secret: true });
  const code = await askCode(deps.prompt, deps.out.stderr);
  return api.call<LoginResponse>('POST', '/webapi/local/login', {
    user,
    password,
    totp_code: code,
    public_key: keys.publicKeyPem,
    ...ttl,
  });
}
