// GitHub's OAuth and REST API over fetch. OAuth endpoints answer errors as JSON bodies with
// status 200 (access_token) or 400 (device code); each known error becomes a KubeportError that
// says what the person or the admin should do.
import { GitHubClientRefusedError, KubeportError, unauthenticated } from '../../core/errors.js';
import type {
  GitHubApi,
  GitHubDeviceCode,
  GitHubDevicePoll,
  GitHubEndpoints,
  GitHubOAuthApp,
  GitHubUser,
  GitHubUserTeam,
} from '../../core/ports.js';
import { nextLink } from './link-header.js';

export interface GitHubHttpApiOptions {
  /** Teams asked for per page (GitHub allows up to 100). */
  perPage?: number;
  /** Pages of teams read in all before the login is refused (Teleport reads 100). */
  maxPages?: number;
  timeoutMs?: number;
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const ADMIN_FIX = 'an admin must fix the github connector (tctl get github, then tctl create --force)';

const gateway = (message: string, cause?: unknown) =>
  new KubeportError('bad_gateway', message, cause === undefined ? undefined : { cause });

export class GitHubHttpApi implements GitHubApi {
  private readonly perPage: number;
  private readonly maxPages: number;
  private readonly timeoutMs: number;

  constructor(options: GitHubHttpApiOptions = {}) {
    this.perPage = options.perPage ?? 100;
    this.maxPages = options.maxPages ?? 100;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async exchangeCode(app: GitHubOAuthApp, request: { code: string; redirectUri: string; codeVerifier: string }): Promise<string> {
    const answer = await this.oauthPost(app, '/login/oauth/access_token', {
      client_id: app.clientId,
      client_secret: app.clientSecret,
      code: request.code,
      redirect_uri: request.redirectUri,
      code_verifier: request.codeVerifier,
    });
    if (typeof answer.body.access_token === 'string' && answer.body.access_token !== '') return answer.body.access_token;
    throw oauthError(answer.body, 'exchanging the sign-in code');
  }

  async startDeviceFlow(app: GitHubOAuthApp, scope: string): Promise<GitHubDeviceCode> {
    const answer = await this.oauthPost(app, '/login/device/code', { client_id: app.clientId, scope });
    const body = answer.body;
    const disabled =
      body.error === 'device_flow_disabled' || body.error === 'unauthorized_client' || [401, 403, 404, 422].includes(answer.status);
    if (disabled) throw deviceFlowDisabled();
    if (typeof body.error === 'string') throw oauthError(body, 'starting the device flow');
    const { device_code, user_code, verification_uri, expires_in, interval } = body;
    if (typeof device_code !== 'string' || typeof user_code !== 'string' || typeof verification_uri !== 'string') {
      throw gateway(`GitHub answered the device code request without a code (status ${answer.status}); try again later`);
    }
    return {
      deviceCode: device_code,
      userCode: user_code,
      verificationUri: verification_uri,
      expiresInSeconds: positiveNumber(expires_in, 900),
      intervalSeconds: positiveNumber(interval, 5),
    };
  }

  async pollDeviceToken(app: GitHubOAuthApp, deviceCode: string): Promise<GitHubDevicePoll> {
    const { body } = await this.oauthPost(app, '/login/oauth/access_token', {
      client_id: app.clientId,
      device_code: deviceCode,
      grant_type: DEVICE_GRANT,
    });
    if (typeof body.access_token === 'string' && body.access_token !== '') return { status: 'granted', accessToken: body.access_token };
    switch (body.error) {
      case 'authorization_pending':
        return { status: 'pending' };
      case 'slow_down':
        return { status: 'slow_down', intervalSeconds: positiveNumber(body.interval, 10) };
      case 'expired_token':
      case 'incorrect_device_code':
        throw new KubeportError('expired', 'the code was not entered at GitHub in time; run tsh login --headless again');
      case 'access_denied':
        throw new KubeportError('access_denied', 'the sign-in was denied at GitHub; if that was a mistake, run tsh login --headless again');
      case 'device_flow_disabled':
        throw deviceFlowDisabled();
      default:
        throw oauthError(body, 'polling the device flow');
    }
  }

  async user(endpoints: GitHubEndpoints, accessToken: string): Promise<GitHubUser> {
    const { body } = await this.apiGet(`${endpoints.apiEndpointUrl}/user`, accessToken, 'reading your GitHub user');
    const user = body as { login?: unknown; id?: unknown };
    if (typeof user.login !== 'string' || (typeof user.id !== 'number' && typeof user.id !== 'string')) {
      throw gateway('GitHub answered /user without a login and id; try again later');
    }
    return { login: user.login, id: String(user.id) };
  }

  async teams(endpoints: GitHubEndpoints, accessToken: string): Promise<GitHubUserTeam[]> {
    const origin = new URL(endpoints.apiEndpointUrl).origin;
    const teams: GitHubUserTeam[] = [];
    let url: string | undefined = `${endpoints.apiEndpointUrl}/user/teams?per_page=${this.perPage}`;
    for (let page = 1; url !== undefined; page++) {
      if (page > this.maxPages) {
        throw new KubeportError(
          'access_denied',
          `you belong to more GitHub teams than Kubeport reads (${this.maxPages} pages of ${this.perPage}), so your roles cannot be decided; leave teams you do not need, or ask an admin`,
        );
      }
      const answer = await this.apiGet(url, accessToken, 'listing your GitHub teams');
      if (!Array.isArray(answer.body)) throw gateway('GitHub answered /user/teams with something other than a list; try again later');
      for (const raw of answer.body as { slug?: unknown; name?: unknown; organization?: { login?: unknown } }[]) {
        if (typeof raw.slug !== 'string' || typeof raw.organization?.login !== 'string') continue;
        teams.push({ organization: raw.organization.login, slug: raw.slug, name: typeof raw.name === 'string' ? raw.name : raw.slug });
      }
      url = nextLink(answer.headers.get('link'));
      // The token goes only where the first request went: a next link elsewhere is not followed.
      if (url !== undefined && new URL(url, origin).origin !== origin) {
        throw gateway(`GitHub's next page of teams points away from ${origin}; ${ADMIN_FIX} if api_endpoint_url is wrong`);
      }
    }
    return teams;
  }

  private async oauthPost(app: GitHubEndpoints, path: string, form: Record<string, string>) {
    const url = `${app.endpointUrl}${path}`;
    const response = await this.send(url, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    const body = await jsonBody(response, url);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw gateway(`GitHub answered ${url} with unexpected JSON; try again later`);
    return { status: response.status, body: body as Record<string, unknown> };
  }

  private async apiGet(url: string, accessToken: string, what: string) {
    const response = await this.send(url, {
      headers: { accept: 'application/vnd.github+json', authorization: `Bearer ${accessToken}`, 'x-github-api-version': '2022-11-28' },
    });
    if (response.status === 401) {
      await response.body?.cancel();
      throw unauthenticated(`GitHub refused the access token while ${what}; sign in again`);
    }
    if ((response.status === 403 || response.status === 429) && response.headers.get('x-ratelimit-remaining') === '0') {
      await response.body?.cancel();
      const reset = Number(response.headers.get('x-ratelimit-reset'));
      const when = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
      throw new KubeportError('rate_limited', `GitHub's API rate limit is used up${when}; try again then`);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw gateway(`GitHub answered ${response.status} while ${what}; try again later`);
    }
    return { body: await jsonBody(response, url), headers: response.headers };
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw gateway(
        `could not reach GitHub at ${new URL(url).origin} (${errorText(error)}); try again, and if it persists ${ADMIN_FIX}`,
        error,
      );
    }
  }
}

function oauthError(body: Record<string, unknown>, what: string): KubeportError {
  const error = typeof body.error === 'string' ? body.error : 'no error code';
  const description = typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
  switch (error) {
    case 'bad_verification_code':
      return unauthenticated('GitHub refused the sign-in code (incorrect, expired or already used); run tsh login again');
    case 'incorrect_client_credentials':
      return new GitHubClientRefusedError(`GitHub refused the OAuth app's client_id or client_secret; ${ADMIN_FIX}`);
    case 'redirect_uri_mismatch':
      return gateway(`the connector's redirect_url is not the OAuth app's callback URL at GitHub; ${ADMIN_FIX}`);
    case 'unverified_user_email':
      return new KubeportError(
        'access_denied',
        'GitHub requires a verified primary email address; verify yours at GitHub, then sign in again',
      );
    default:
      return gateway(`GitHub refused ${what} (${error}${description}); try again, and if it persists ask an admin`);
  }
}

function deviceFlowDisabled(): KubeportError {
  return new KubeportError(
    'bad_request',
    "headless login needs GitHub's device flow, which is not enabled for this connector's OAuth app; an admin can enable it (OAuth app settings: Enable Device Flow), or log in with a browser (tsh login without --headless)",
  );
}

async function jsonBody(response: Response, url: string): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw gateway(`GitHub answered ${url} with status ${response.status} and no JSON; try again later`);
  }
}

function positiveNumber(value: unknown, fallback: number): number {
  const number = typeof value === 'string' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) && number > 0 ? number : fallback;
}

function errorText(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  if (cause?.code) return cause.code;
  return error instanceof Error ? error.message : String(error);
}
