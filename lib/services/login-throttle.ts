// Slows down password and TOTP guessing without letting anyone lock a user out.
// Attempts are counted per (user, source) and per source as they arrive, before any check, so
// parallel guesses are counted too; failures are counted per user. The per-user limit only
// refuses sources that have already tried that user, so an attacker who floods a name cannot
// keep its owner from logging in from a clean address.
import { KubeportError } from '../core/errors.js';
import type { Clock, StateStore } from '../core/ports.js';
import { sourceBucket } from '../core/source-bucket.js';

export interface ThrottleLimits {
  windowMs: number;
  /** Attempts one source may make for one user (a success clears them). */
  perUserSource: number;
  /** Attempts one source may make for any users; generous, as an office shares one address. */
  perSource: number;
  /** Failures one user may collect from all sources. */
  perUser: number;
}

export const defaultThrottleLimits: ThrottleLimits = { windowMs: 15 * 60_000, perUserSource: 5, perSource: 200, perUser: 30 };

interface Counter {
  count: number;
  expiresAt: Date;
}

export class LoginThrottle {
  constructor(
    private readonly state: StateStore,
    private readonly clock: Clock,
    private readonly limits: ThrottleLimits = defaultThrottleLimits,
  ) {}

  /**
   * Counts this attempt before it is checked, so parallel guesses cannot all pass a check that
   * none of them has been counted in yet. Throws a 429 error with a retry time when it must wait.
   */
  async admit(user: string, rawSource: string): Promise<void> {
    const source = sourceBucket(rawSource);
    const expiresAt = new Date(this.clock.now().getTime() + this.limits.windowMs);
    const [attempts, sourceAttempts] = await Promise.all([
      this.state.increment(pairKey(user, source), expiresAt),
      this.state.increment(sourceKey(source), expiresAt),
    ]);
    // Only the user's failure count is read on every attempt; the window ends of the attempt
    // counters are read only when one of them refuses, to name the retry time.
    const byUser = attempts > 1 ? await this.state.counter(userKey(user)) : undefined;
    const refusing = [
      attempts > this.limits.perUserSource ? pairKey(user, source) : undefined,
      sourceAttempts > this.limits.perSource ? sourceKey(source) : undefined,
    ].filter((key): key is string => key !== undefined);
    const blocking: Counter[] = [
      ...(await Promise.all(refusing.map((key) => this.state.counter(key)))).filter((c): c is Counter => c !== undefined),
      // A source's first try for this user is never refused by the user's own count.
      ...(byUser && byUser.count >= this.limits.perUser ? [byUser] : []),
    ];
    if (blocking.length === 0) return;
    const until = Math.max(...blocking.map((c) => c.expiresAt.getTime()));
    const retryAfterSeconds = Math.max(1, Math.ceil((until - this.clock.now().getTime()) / 1000));
    throw new KubeportError('rate_limited', `too many failed logins; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
  }

  async recordFailure(user: string): Promise<void> {
    await this.state.increment(userKey(user), new Date(this.clock.now().getTime() + this.limits.windowMs));
  }

  async recordSuccess(user: string, rawSource: string): Promise<void> {
    await this.state.delete(pairKey(user, sourceBucket(rawSource)));
  }
}

const pairKey = (user: string, source: string) => `login-attempt#pair#${user}#${source}`;
const sourceKey = (source: string) => `login-attempt#source#${source}`;
const userKey = (user: string) => `login-fail#user#${user}`;
