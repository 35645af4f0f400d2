// A GitHub stand-in on loopback that speaks GitHub's OAuth and REST shapes: the authorize page,
// access_token with PKCE (errors as JSON bodies with status 200, as GitHub answers), the device
// flow, /user and /user/teams with Link pagination. Serves the REST API both at the root and
// under /api/v3 (GitHub Enterprise Server). Tests script who is signed in and what they answer;
// npm start -- --demo starts it with a password, and then a person signs in on its HTML pages
// (sign-in-pages.ts) as one of the demo users.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type PersonAnswer, readPersonAnswer, SignInPages } from './sign-in-pages.js';

export interface StandInApp {
  clientId: string;
  clientSecret: string;
  /** The OAuth app's callback URL: redirect_uri must be it or a path below it. */
  callbackUrl: string;
  deviceFlow?: boolean;
}

export interface StandInTeam {
  organization: string;
  slug: string;
  name?: string;
}

export interface StandInUser {
  id: number;
  login: string;
  teams: StandInTeam[];
}

interface Code {
  clientId: string;
  userId: number;
  redirectUri: string;
  challenge?: string;
  expiresAt: number;
  used: boolean;
}

interface Device {
  clientId: string;
  userCode: string;
  expiresAt: number;
  interval: number;
  lastPollAt?: number;
  outcome: 'pending' | 'denied' | { userId: number };
  slowDownNext: boolean;
}

const ERROR_URI = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';

export class GitHubStandIn {
  readonly apps = new Map<string, StandInApp>();
  readonly users = new Map<number, StandInUser>();
  /** Who is signed in to the stand-in's web UI; the authorize page acts for them. */
  signedIn: number | undefined;
  /** What the signed-in user answers on the authorize page. */
  consent: 'approve' | 'deny' = 'approve';
  /** When set, the REST API answers as GitHub does once the rate limit is used up (reset at this Unix time). */
  rateLimitedUntil: number | undefined;
  /** Requests seen, by path, for tests that count GitHub's calls. */
  readonly hits = new Map<string, number>();
  private readonly codes = new Map<string, Code>();
  private readonly tokens = new Map<string, { clientId: string; userId: number }>();
  private readonly devices = new Map<string, Device>();
  private readonly pages: SignInPages | undefined;
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    private readonly now: () => number,
    password: string | undefined,
  ) {
    this.pages = password === undefined ? undefined : new SignInPages(url, password, () => [...this.users.values()]);
  }

  /**
   * Listens on host:port (default 127.0.0.1, any free port). With a password, a person who is not
   * signed in (signedIn undefined) gets sign-in pages that take it; without one, the scripted
   * signedIn/consent/device() decide.
   */
  static async start(options: { now?: () => number; host?: string; port?: number; password?: string } = {}): Promise<GitHubStandIn> {
    const server = http.createServer();
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const url = `http://${host}:${(server.address() as AddressInfo).port}`;
    const standIn = new GitHubStandIn(server, url, options.now ?? Date.now, options.password);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => standIn.handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    return standIn;
  }

  get apiUrl(): string {
    return `${this.url}/api/v3`;
  }

  addApp(app: StandInApp): StandInApp {
    this.apps.set(app.clientId, { deviceFlow: true, ...app });
    return app;
  }

  addUser(user: StandInUser): StandInUser {
    this.users.set(user.id, user);
    return user;
  }

  /** The device request a user code belongs to; approve, deny or slow it down. */
  device(userCode: string): { approve(userId: number): void; deny(): void; slowDown(): void } {
    const device = [...this.devices.values()].find((d) => d.userCode === userCode);
    if (!device) throw new Error(`no device request with user code ${userCode}`);
    return {
      approve: (userId) => (device.outcome = { userId }),
      deny: () => (device.outcome = 'denied'),
      slowDown: () => (device.slowDownNext = true),
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname.replace(/^\/api\/v3(?=\/)/, '');
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    const route = `${req.method} ${path}`;
    if (route === 'GET /login/oauth/authorize') return this.authorize(url.searchParams, res);
    if (this.pages && route === 'POST /login/oauth/authorize') return this.authorizeByPerson(req, body, res);
    if (this.pages && route === 'GET /login/device') return this.pages.devicePage(res, url.searchParams.get('user_code') ?? '');
    if (this.pages && route === 'POST /login/device') return this.deviceByPerson(req, body, res);
    if (route === 'POST /login/oauth/access_token') return this.accessToken(req, form(req, body), res);
    if (route === 'POST /login/device/code') return this.deviceCode(req, form(req, body), res);
    if (route === 'GET /user') return this.withUser(req, res, (user) => send(res, 200, publicUser(user)));
    if (route === 'GET /user/teams') return this.withUser(req, res, (user) => this.teams(url, user, res));
    send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
  }

  private authorize(query: URLSearchParams, res: http.ServerResponse): void {
    const app = this.apps.get(query.get('client_id') ?? '');
    if (!app) return page(res, 404, 'The OAuth app was not found (unknown client_id).');
    const redirectUri = query.get('redirect_uri') ?? app.callbackUrl;
    if (!redirectUri.startsWith(app.callbackUrl)) {
      return page(res, 400, 'The redirect_uri is not associated with this application.');
    }
    // Nobody signed in and a person at the browser: ask who they are (the request rides along).
    if (this.pages && this.signedIn === undefined) return this.pages.signInPage(res, query);
    this.answer(app, redirectUri, query, this.consent === 'deny' ? 'deny' : this.signedIn, res);
  }

  /** The sign-in form posted: the password checked, then the same answer as a scripted sign-in. */
  private authorizeByPerson(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const answer = readPersonAnswer(this.pages!, req, body, res);
    if (!answer) return;
    const query = answer.form;
    const app = this.apps.get(query.get('client_id') ?? '');
    if (!app) return page(res, 404, 'The OAuth app was not found (unknown client_id).');
    const redirectUri = query.get('redirect_uri') ?? app.callbackUrl;
    if (!redirectUri.startsWith(app.callbackUrl)) {
      return page(res, 400, 'The redirect_uri is not associated with this application.');
    }
    this.answer(app, redirectUri, query, answer.decision === 'deny' ? 'deny' : answer.userId, res);
  }

  private deviceByPerson(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const answer: PersonAnswer | undefined = readPersonAnswer(this.pages!, req, body, res);
    if (!answer) return;
    const userCode = (answer.form.get('user_code') ?? '').trim().toUpperCase();
    // As GitHub does: "abcd efgh", "ABCDEFGH" and "abcd-efgh" are all the code ABCD-EFGH.
    const typed = normalUserCode(userCode);
    const device = [...this.devices.values()].find((d) => normalUserCode(d.userCode) === typed && d.expiresAt > this.now());
    if (!device || device.outcome !== 'pending') return this.pages!.deviceResult(res, 404, 'unknown-code', userCode);
    device.outcome = answer.decision === 'deny' ? 'denied' : { userId: answer.userId };
    this.pages!.deviceResult(res, 200, answer.decision === 'deny' ? 'denied' : 'approved', userCode);
  }

  private answer(
    app: StandInApp,
    redirectUri: string,
    query: URLSearchParams,
    who: number | 'deny' | undefined,
    res: http.ServerResponse,
  ): void {
    const back = new URL(redirectUri);
    const state = query.get('state');
    if (who === 'deny' || who === undefined) {
      back.search = new URLSearchParams({
        error: 'access_denied',
        error_description: 'The user has denied your application access.',
        error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied',
        ...(state === null ? {} : { state }),
      }).toString();
      return redirect(res, back.toString());
    }
    const method = query.get('code_challenge_method');
    const challenge = query.get('code_challenge') ?? undefined;
    if (challenge !== undefined && method !== 'S256') return page(res, 400, 'Only the S256 code challenge method is accepted.');
    const code = randomBytes(10).toString('hex');
    this.codes.set(code, {
      clientId: app.clientId,
      userId: who,
      redirectUri,
      ...(challenge === undefined ? {} : { challenge }),
      expiresAt: this.now() + 10 * 60_000,
      used: false,
    });
    back.search = new URLSearchParams({ code, ...(state === null ? {} : { state }) }).toString();
    redirect(res, back.toString());
  }

  private accessToken(req: http.IncomingMessage, params: URLSearchParams, res: http.ServerResponse): void {
    const reply = (value: Record<string, unknown>) => oauthReply(req, res, 200, value);
    const app = this.apps.get(params.get('client_id') ?? '');
    if (params.get('grant_type') === 'urn:ietf:params:oauth:grant-type:device_code') {
      if (!app) return reply(oauthError('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.'));
      return this.pollDevice(app, params.get('device_code') ?? '', reply);
    }
    if (!app || app.clientSecret !== params.get('client_secret')) {
      return reply(oauthError('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.'));
    }
    const code = this.codes.get(params.get('code') ?? '');
    const badCode = () => reply(oauthError('bad_verification_code', 'The code passed is incorrect or expired.'));
    // A code works once, only for the app it was issued to, within its lifetime.
    if (!code || code.used || code.clientId !== app.clientId || code.expiresAt <= this.now()) return badCode();
    code.used = true;
    const redirectUri = params.get('redirect_uri');
    if (redirectUri !== null && redirectUri !== code.redirectUri) {
      return reply(oauthError('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.'));
    }
    if (code.challenge !== undefined) {
      const verifier = params.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== code.challenge) return badCode();
    }
    reply({ access_token: this.issueToken(app.clientId, code.userId), token_type: 'bearer', scope: 'read:org' });
  }

  private deviceCode(req: http.IncomingMessage, params: URLSearchParams, res: http.ServerResponse): void {
    const app = this.apps.get(params.get('client_id') ?? '');
    if (!app) return oauthReply(req, res, 404, { error: 'Not Found' });
    if (!app.deviceFlow) {
      return oauthReply(req, res, 400, oauthError('device_flow_disabled', 'Device flow must be explicitly enabled for this App'));
    }
    const deviceCode = randomBytes(20).toString('hex');
    const letters = () => randomBytes(4).toString('hex').toUpperCase().slice(0, 4);
    const device: Device = {
      clientId: app.clientId,
      userCode: `${letters()}-${letters()}`,
      expiresAt: this.now() + 900_000,
      interval: 5,
      outcome: 'pending',
      slowDownNext: false,
    };
    this.devices.set(deviceCode, device);
    oauthReply(req, res, 200, {
      device_code: deviceCode,
      user_code: device.userCode,
      verification_uri: `${this.url}/login/device`,
      expires_in: 900,
      interval: device.interval,
    });
  }

  private pollDevice(app: StandInApp, deviceCode: string, reply: (value: Record<string, unknown>) => void): void {
    const device = this.devices.get(deviceCode);
    if (!device || device.clientId !== app.clientId)
      return reply(oauthError('incorrect_device_code', 'The device_code provided is not valid.'));
    if (!app.deviceFlow) return reply(oauthError('device_flow_disabled', 'Device flow must be explicitly enabled for this App'));
    const now = this.now();
    if (device.expiresAt <= now) return reply(oauthError('expired_token', 'The device_code has expired.'));
    // Polling faster than the interval, or a scripted slow_down, adds 5 seconds to it.
    const early = device.lastPollAt !== undefined && now - device.lastPollAt < device.interval * 1000;
    device.lastPollAt = now;
    if (early || device.slowDownNext) {
      device.slowDownNext = false;
      device.interval += 5;
      return reply({ ...oauthError('slow_down', 'Too many requests have been made in the same timeframe.'), interval: device.interval });
    }
    if (device.outcome === 'pending') {
      return reply(oauthError('authorization_pending', 'The authorization request is still pending.'));
    }
    if (device.outcome === 'denied') return reply(oauthError('access_denied', 'The authorization request was denied.'));
    this.devices.delete(deviceCode);
    reply({ access_token: this.issueToken(app.clientId, device.outcome.userId), token_type: 'bearer', scope: 'read:org' });
  }

  private issueToken(clientId: string, userId: number): string {
    const token = `gho_${randomBytes(18).toString('hex')}`;
    this.tokens.set(token, { clientId, userId });
    return token;
  }

  private withUser(req: http.IncomingMessage, res: http.ServerResponse, then: (user: StandInUser) => void): void {
    const match = /^(?:token|bearer) (\S+)$/i.exec(req.headers.authorization ?? '');
    const grant = match ? this.tokens.get(match[1]!) : undefined;
    const user = grant ? this.users.get(grant.userId) : undefined;
    if (!user) return send(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    if (this.rateLimitedUntil !== undefined) {
      const headers = { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(this.rateLimitedUntil) };
      return send(res, 403, { message: 'API rate limit exceeded for user.', documentation_url: 'https://docs.github.com/rest' }, headers);
    }
    then(user);
  }

  private teams(url: URL, user: StandInUser, res: http.ServerResponse): void {
    const perPage = Math.min(Math.max(Number(url.searchParams.get('per_page') ?? 30) || 30, 1), 100);
    const pageNumber = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1);
    const last = Math.max(Math.ceil(user.teams.length / perPage), 1);
    const slice = user.teams.slice((pageNumber - 1) * perPage, pageNumber * perPage);
    const link = (n: number, rel: string) => {
      const target = new URL(url);
      target.searchParams.set('per_page', String(perPage));
      target.searchParams.set('page', String(n));
      return `<${target.toString()}>; rel="${rel}"`;
    };
    const links = [
      ...(pageNumber > 1 ? [link(pageNumber - 1, 'prev'), link(1, 'first')] : []),
      ...(pageNumber < last ? [link(pageNumber + 1, 'next'), link(last, 'last')] : []),
    ];
    send(
      res,
      200,
      slice.map((team, i) => teamJson(team, pageNumber * 1000 + i)),
      links.length ? { link: links.join(', ') } : {},
    );
  }
}

function form(req: http.IncomingMessage, body: string): URLSearchParams {
  if (/json/.test(req.headers['content-type'] ?? '')) {
    return new URLSearchParams(Object.entries(JSON.parse(body || '{}') as Record<string, string>));
  }
  return new URLSearchParams(body);
}

function oauthError(error: string, description: string): Record<string, unknown> {
  return { error, error_description: description, error_uri: `${ERROR_URI}#${error.replaceAll('_', '-')}` };
}

/** JSON when asked for (Accept: application/json), else form-encoded, as GitHub answers. */
function oauthReply(req: http.IncomingMessage, res: http.ServerResponse, status: number, value: Record<string, unknown>): void {
  if (/application\/json/.test(req.headers.accept ?? '')) return send(res, status, value);
  const text = new URLSearchParams(Object.entries(value).map(([k, v]) => [k, String(v)])).toString();
  res.writeHead(status, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }).end(text);
}

function send(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(value));
}

function redirect(res: http.ServerResponse, location: string): void {
  res.writeHead(302, { location }).end();
}

function page(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><p>${text}</p>`);
}

function publicUser(user: StandInUser) {
  return { login: user.login, id: user.id, node_id: `U_${user.id}`, type: 'User', site_admin: false, name: user.login };
}

function teamJson(team: StandInTeam, id: number) {
  return {
    id,
    node_id: `T_${id}`,
    name: team.name ?? team.slug,
    slug: team.slug,
    description: '',
    privacy: 'closed',
    permission: 'pull',
    parent: null,
    organization: { login: team.organization, id: team.organization.length, node_id: `O_${team.organization}` },
  };
}

/** A user code as compared: letters and digits only, upper case. */
function normalUserCode(code: string): string {
  return code.replace(/[^0-9a-z]/gi, '').toUpperCase();
}
