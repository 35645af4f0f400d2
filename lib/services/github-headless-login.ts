// Headless login over GitHub's OAuth device flow. The API asks GitHub for the device code and
// polls GitHub's token endpoint itself, at most once per interval whatever tsh does, so the
// GitHub token never leaves the server; tsh only polls Kubeport.
import { ConflictError, KubeportError } from '../core/errors.js';
import { publicError } from '../core/public-error.js';
import type { ServiceDeps } from './deps.js';
import { loadConnector } from './github-connectors.js';
import { requireGitHub } from './github-login.js';
import { GITHUB_SCOPE, type LoginAttemptContext, type PendingLogin, auditLoginFailure, signInWithToken } from './github-sign-in.js';
import { type LoginResponse, loginResponse } from './login-response.js';

const PREFIX = 'github_headless:';
/** RFC 8628: each slow_down adds 5 seconds to the interval. */
const SLOW_DOWN_STEP_SECONDS = 5;

interface HeadlessState extends PendingLogin {
  device_code: string;
  interval_seconds: number;
  expires_at: string;
}

export interface HeadlessStart {
  request_id: string;
  user_code: string;
  verification_uri: string;
  expires_in: number;
  interval: number;
}

export type HeadlessPoll = { status: 'pending'; interval: number } | { status: 'done'; login: LoginResponse };

export class GitHubHeadlessLogin {
  constructor(private readonly deps: ServiceDeps) {}

  async start(request: {
    connectorId?: string | undefined;
    publicKeySpki: Uint8Array;
    ttlMs?: number | undefined;
    source: string;
    userAgent?: string | undefined;
  }): Promise<HeadlessStart> {
    const deps = requireGitHub(this.deps);
    let connectorName = request.connectorId;
    try {
      const { connector, app } = await loadConnector(deps, request.connectorId);
      connectorName = connector.metadata.name;
      const device = await deps.github.startDeviceFlow(app, GITHUB_SCOPE);
      const requestId = Buffer.from(deps.random.bytes(16)).toString('hex');
      const expires = new Date(deps.clock.now().getTime() + device.expiresInSeconds * 1000);
      const state: HeadlessState = {
        connector: connectorName,
        public_key: Buffer.from(request.publicKeySpki).toString('base64'),
        ...(request.ttlMs === undefined ? {} : { ttl_ms: request.ttlMs }),
        device_code: device.deviceCode,
        interval_seconds: device.intervalSeconds,
        expires_at: expires.toISOString(),
      };
      await deps.state.putIfAbsent(PREFIX + requestId, state, expires);
      return {
        request_id: requestId,
        user_code: device.userCode,
        verification_uri: device.verificationUri,
        expires_in: device.expiresInSeconds,
        interval: device.intervalSeconds,
      };
    } catch (error) {
      await auditLoginFailure(deps, connectorName, publicError(error).message, { source: request.source, userAgent: request.userAgent });
      throw error;
    }
  }

  /** Asks GitHub at most once per interval; answers pending until the person approved at GitHub. */
  async poll(requestId: string, source: string, userAgent?: string): Promise<HeadlessPoll> {
    const deps = requireGitHub(this.deps);
    const key = PREFIX + requestId;
    const context: LoginAttemptContext = { source, userAgent };
    const state = await deps.state.get<HeadlessState>(key);
    if (!state) {
      const error = new KubeportError('expired', 'this headless login is unknown, finished or expired; run tsh login --headless again');
      await auditLoginFailure(deps, undefined, error.message, context);
      throw error;
    }
    const expiresAt = new Date(state.expires_at);
    const slowDowns = (await deps.state.counter(`${key}:slow`))?.count ?? 0;
    const interval = state.interval_seconds + SLOW_DOWN_STEP_SECONDS * slowDowns;
    const now = deps.clock.now();
    // One GitHub poll per interval, whoever calls and however often.
    if (!(await deps.state.putIfAbsent(`${key}:gate`, {}, new Date(now.getTime() + interval * 1000)))) {
      return { status: 'pending', interval };
    }
    try {
      const { connector, app } = await loadConnector(deps, state.connector);
      const answer = await deps.github.pollDeviceToken(app, state.device_code);
      if (answer.status === 'pending') return { status: 'pending', interval };
      if (answer.status === 'slow_down') {
        await deps.state.increment(`${key}:slow`, expiresAt);
        const slower = Math.max(answer.intervalSeconds, interval + SLOW_DOWN_STEP_SECONDS);
        await deps.state.delete(`${key}:gate`);
        await deps.state.putIfAbsent(`${key}:gate`, {}, new Date(now.getTime() + slower * 1000));
        return { status: 'pending', interval: slower };
      }
      // Once only: a second poll racing this one finds nothing to finish.
      if (!(await deps.state.take(key)))
        throw new ConflictError('this headless login was already completed; run tsh login --headless again');
      const issued = await signInWithToken(deps, connector, app, answer.accessToken, state, context);
      return { status: 'done', login: await loginResponse(deps, issued) };
    } catch (error) {
      // Denied, expired, disabled or refused: the request is over. A passing GitHub failure is not.
      const passing = error instanceof KubeportError && (error.code === 'bad_gateway' || error.code === 'rate_limited');
      if (!passing) await deps.state.delete(key);
      await auditLoginFailure(deps, state.connector, publicError(error).message, context);
      throw error;
    }
  }
}
