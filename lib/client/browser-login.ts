// GitHub login in a browser: tsh listens on loopback, asks the API for GitHub's authorize URL with
// that listener as the way back, opens (or prints) the URL, and waits up to 3 minutes for the
// sealed result. Standard error carries one URL only, so scripts and people can take it as is.
import type { ApiClient } from './api-client.js';
import { ClientError } from './api-client.js';
import { cliCommand } from './command-hint.js';
import type { TshDeps } from './commands/deps.js';
import { startLoginCallback } from './login-callback.js';
import { waitForPerson } from './login-wait.js';
import type { KeyPair, LoginResponse } from './login.js';

/** Teleport's tsh waits as long for the browser. */
export const BROWSER_LOGIN_TIMEOUT_MS = 3 * 60_000;

export interface BrowserLoginOptions {
  connector: { name: string; display: string };
  ttlSeconds?: number;
  /** 'none': print the URL only (another machine's browser, or none at all). */
  browser?: 'none';
}

/** Only a web page may be opened: a proxy must not make tsh start a file or another program's URL scheme. */
export function authorizeUrl(answer: { redirect_url?: unknown }): string {
  const value = answer.redirect_url;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || /\s/.test(String(value)))
    throw new ClientError('the proxy answered the GitHub login request without a web address to sign in at; is --proxy a Kubeport proxy?');
  return String(value);
}

export async function browserLogin(deps: TshDeps, api: ApiClient, keys: KeyPair, options: BrowserLoginOptions): Promise<LoginResponse> {
  const callback = await startLoginCallback({ onIgnored: (line) => deps.out.stderr.write(`${line}\n`) });
  try {
    const answer = await api.call<{ redirect_url?: unknown }>('POST', '/webapi/github/login/console', {
      connector_id: options.connector.name,
      public_key: keys.publicKeyPem,
      redirect_url: callback.redirectUrl,
      ...(options.ttlSeconds ? { ttl_seconds: options.ttlSeconds } : {}),
    });
    const url = authorizeUrl(answer);
    const timeoutMs = BROWSER_LOGIN_TIMEOUT_MS;
    const span = `${timeoutMs / 60_000} minutes`;
    // Said only once Ctrl-C is handled: a Ctrl-C that follows the words must find the handler.
    const announce = () => {
      deps.out.stderr.write(`If the browser does not open, visit: ${url}\n`);
      if (options.browser !== 'none') deps.openBrowser(url);
      deps.out.stderr.write(
        `Waiting up to ${span} for you to sign in with ${options.connector.display} in the browser (Ctrl-C cancels)...\n`,
      );
    };
    return await waitForPerson(
      deps.waits,
      {
        timeoutMs,
        interrupted: 'login cancelled (Ctrl-C); nothing was saved',
        onTimeout: () =>
          new ClientError(
            `the browser login did not finish within ${span}; run ${cliCommand('tsh')} login again and sign in within that time, or add --headless to sign in from another device`,
          ),
      },
      () => {
        announce();
        return callback.result;
      },
    );
  } finally {
    await callback.close();
  }
}
