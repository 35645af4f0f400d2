// Browser login with GitHub, as tsh does it with Teleport: tsh asks for the GitHub authorize URL
// (console), the browser comes back with a code (callback), and the result goes to tsh's
// loopback listener sealed with the key only tsh holds. Failures reach the person as a page and
// tsh as one line, sealed too ({"error": ...}), and are audited. Teleport sends a plain err=; a
// plain one here would let any page the browser visits end a waiting tsh with words it chose.
import { createHash } from 'node:crypto';
import { checkClientRedirect } from '../core/client-redirect.js';
import { sealForClient } from '../core/client-seal.js';
import { KubeportError, accessDenied, badRequest, unauthenticated } from '../core/errors.js';
import type { GitHubApi } from '../core/ports.js';
import { errorDetail, publicError } from '../core/public-error.js';
import type { ServiceDeps } from './deps.js';
import { loadConnector, withOAuthApp } from './github-connectors.js';
import { GITHUB_SCOPE, type LoginAttemptContext, type PendingLogin, auditLoginFailure, signInWithToken } from './github-sign-in.js';
import { loginResponse } from './login-response.js';

export const LOGIN_STATE_TTL_MS = 10 * 60_000;
const STATE_PREFIX = 'github_login:';

interface BrowserLoginState extends PendingLogin {
  client_redirect_url: string;
  secret_key: string;
  code_verifier: string;
}

export interface ConsoleLoginRequest {
  connectorId?: string | undefined;
  publicKeySpki: Uint8Array;
  ttlMs?: number | undefined;
  clientRedirectUrl: string;
  source: string;
  userAgent?: string | undefined;
}

export interface CallbackQuery {
  code?: string | undefined;
  state?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
}

/** Where the browser goes next, and what the person reads on the way. */
export type CallbackOutcome = { kind: 'redirect'; location: string; failure?: string } | { kind: 'page'; status: number; failure: string };

export function requireGitHub(deps: ServiceDeps): ServiceDeps & { github: GitHubApi } {
  if (!deps.github) throw badRequest('GitHub login is not available on this server; log in as a local user');
  return deps as ServiceDeps & { github: GitHubApi };
}

export class GitHubBrowserLogin {
  constructor(
    private readonly deps: ServiceDeps,
    /** Where the detail of an unexpected failure goes; the person sees only that there was one. */
    private readonly log: (message: string) => void = console.error,
  ) {}

  /** The GitHub authorize URL for a new login; the state stored for it works once, for 10 minutes. */
  async startConsole(request: ConsoleLoginRequest): Promise<{ redirectUrl: string }> {
    const deps = requireGitHub(this.deps);
    const context: LoginAttemptContext = { source: request.source, userAgent: request.userAgent };
    let connectorName = request.connectorId;
    try {
      const { connector, app } = await loadConnector(deps, request.connectorId);
      connectorName = connector.metadata.name;
      const redirect = checkClientRedirect(request.clientRedirectUrl, connector.spec.client_redirect_settings);
      if (!redirect.ok) throw badRequest(redirect.message);
      const state = hex(deps.random.bytes(32));
      const verifier = Buffer.from(deps.random.bytes(32)).toString('base64url');
      const record: BrowserLoginState = {
        connector: connectorName,
        public_key: Buffer.from(request.publicKeySpki).toString('base64'),
        ...(request.ttlMs === undefined ? {} : { ttl_ms: request.ttlMs }),
        client_redirect_url: redirect.url.toString(),
        secret_key: redirect.secretKey,
        code_verifier: verifier,
      };
      const expires = new Date(deps.clock.now().getTime() + LOGIN_STATE_TTL_MS);
      if (!(await deps.state.putIfAbsent(STATE_PREFIX + state, record, expires))) throw new Error('login state collision');
      const authorize = new URL(`${app.endpointUrl}/login/oauth/authorize`);
      authorize.search = new URLSearchParams({
        client_id: app.clientId,
        redirect_uri: connector.spec.redirect_url,
        scope: GITHUB_SCOPE,
        state,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      return { redirectUrl: authorize.toString() };
    } catch (error) {
      await auditLoginFailure(deps, connectorName, publicError(error).message, context);
      throw error;
    }
  }

  /** GitHub sent the browser back: finish the login, or say why not. Never throws. */
  async callback(query: CallbackQuery, source: string, userAgent?: string): Promise<CallbackOutcome> {
    const context: LoginAttemptContext = { source, userAgent };
    const state = query.state ? await this.deps.state.take<BrowserLoginState>(STATE_PREFIX + query.state) : undefined;
    if (!state) {
      const failure = 'this sign-in link has expired or was already used (each works once, for 10 minutes); run tsh login again';
      await auditLoginFailure(this.deps, undefined, 'login state missing, expired or already used', context, failure);
      return { kind: 'page', status: 400, failure };
    }
    const clientUrl = new URL(state.client_redirect_url);
    try {
      const deps = requireGitHub(this.deps);
      if (query.error !== undefined) throw refusedAtGitHub(query.error, query.error_description);
      if (!query.code) throw badRequest('GitHub sent the browser back without a code; run tsh login again');
      const loaded = await loadConnector(deps, state.connector);
      const { connector, app } = loaded;
      const token = await withOAuthApp(deps, loaded, (oauthApp) =>
        deps.github.exchangeCode(oauthApp, {
          code: query.code!,
          redirectUri: connector.spec.redirect_url,
          codeVerifier: state.code_verifier,
        }),
      );
      const issued = await signInWithToken(deps, connector, app, token, state, context);
      const sealed = sealForClient(state.secret_key, JSON.stringify(await loginResponse(deps, issued)), deps.random.bytes(12));
      clientUrl.search = new URLSearchParams({ response: JSON.stringify(sealed) }).toString();
      return { kind: 'redirect', location: clientUrl.toString() };
    } catch (error) {
      const shown = publicError(error);
      const failure = oneLine(shown.message);
      if (shown.code === 'internal') this.log(`GitHub login callback failed: ${errorDetail(error)}`);
      await auditLoginFailure(this.deps, state.connector, failure, context);
      const sealed = sealForClient(state.secret_key, JSON.stringify({ error: failure }), this.deps.random.bytes(12));
      clientUrl.search = new URLSearchParams({ response: JSON.stringify(sealed) }).toString();
      return { kind: 'redirect', location: clientUrl.toString(), failure };
    }
  }
}

function refusedAtGitHub(error: string, description: string | undefined): KubeportError {
  if (error === 'access_denied') {
    return accessDenied('you did not authorize the Kubeport app at GitHub; run tsh login again and choose Authorize');
  }
  const detail = description ? `: ${description}` : '';
  return unauthenticated(`GitHub refused the sign-in (${error}${detail}); run tsh login again, and if it persists ask an admin`);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 500);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
