// A fixed-window count of calls per source address, for endpoints anyone may call without a login
// (GitHub login starts and headless polls): each stores state, may call GitHub, and writes audit
// events on failure, so one address must not be able to flood them. The call is counted before
// anything else happens, so parallel calls are counted too.
import type { Clock, StateStore } from '../core/ports.js';
import { sourceBucket } from '../core/source-bucket.js';
import { ThrottledError, waitText } from './login-throttle.js';

export interface SourceLimit {
  /** Names the counter and, in the refusal, what was counted ("GitHub login starts"). */
  name: string;
  what: string;
  perWindow: number;
  windowMs: number;
}

/** Generous for people and scripts (a tsh login starts once); an office shares one address. */
export const githubLoginStartLimit: SourceLimit = {
  name: 'github-login-start',
  what: 'GitHub login starts',
  perWindow: 30,
  windowMs: 60_000,
};
/** tsh polls every 5 s or slower: 12 a minute for one headless login. */
export const githubHeadlessPollLimit: SourceLimit = {
  name: 'github-headless-poll',
  what: 'headless login polls',
  perWindow: 120,
  windowMs: 60_000,
};

export class SourceRateLimit {
  constructor(
    private readonly state: StateStore,
    private readonly clock: Clock,
    private readonly limit: SourceLimit,
  ) {}

  /** Counts this call; throws rate_limited (429, Retry-After) once the source is over its limit. */
  async admit(rawSource: string): Promise<void> {
    const key = `${this.limit.name}#source#${sourceBucket(rawSource)}`;
    const now = this.clock.now().getTime();
    const count = await this.state.increment(key, new Date(now + this.limit.windowMs));
    if (count <= this.limit.perWindow) return;
    const until = (await this.state.counter(key))?.expiresAt.getTime() ?? now + this.limit.windowMs;
    const retryAfterSeconds = Math.max(1, Math.ceil((until - now) / 1000));
    throw new ThrottledError(
      `too many ${this.limit.what} from your address (${this.limit.perWindow} per ${waitText(this.limit.windowMs / 1000)}); try again in ${waitText(retryAfterSeconds)}`,
      retryAfterSeconds,
      count === this.limit.perWindow + 1,
    );
  }
}
