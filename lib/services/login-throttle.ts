// Slows down password and TOTP guessing without letting anyone lock a user out.
// Failures are counted per (user, source), per source, and per user. The per-user limit only
// refuses sources that have themselves failed for that user, so an attacker who floods a name
// cannot keep its owner from logging in from a clean address.
import { KubeportError } from '../core/errors.js';
import type { Clock, StateStore } from '../core/ports.js';

export interface ThrottleLimits {
  windowMs: number;
  perUserSource: number;
  perSource: number;
  perUser: number;
}

export const defaultThrottleLimits: ThrottleLimits = { windowMs: 15 * 60_000, perUserSource: 5, perSource: 20, perUser: 30 };

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

  /** Throws a 429 error with a retry time when this attempt must wait. */
  async check(user: string, source: string): Promise<void> {
    const [pair, bySource, byUser] = await Promise.all([
      this.state.counter(pairKey(user, source)),
      this.state.counter(sourceKey(source)),
      this.state.counter(userKey(user)),
    ]);
    const blocking = [
      pair && pair.count >= this.limits.perUserSource ? pair : undefined,
      bySource && bySource.count >= this.limits.perSource ? bySource : undefined,
      pair && byUser && byUser.count >= this.limits.perUser ? byUser : undefined,
    ].filter((c): c is Counter => c !== undefined);
    if (blocking.length === 0) return;
    const until = Math.max(...blocking.map((c) => c.expiresAt.getTime()));
    const retryAfterSeconds = Math.max(1, Math.ceil((until - this.clock.now().getTime()) / 1000));
    throw new KubeportError('rate_limited', `too many failed logins; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
  }

  async recordFailure(user: string, source: string): Promise<void> {
    const expiresAt = new Date(this.clock.now().getTime() + this.limits.windowMs);
    await Promise.all(
      [pairKey(user, source), sourceKey(source), userKey(user)].map((key) => this.state.increment(key, expiresAt)),
    );
  }

  async recordSuccess(user: string, source: string): Promise<void> {
    await this.state.delete(pairKey(user, source));
  }
}

const pairKey = (user: string, source: string) => `login-fail#pair#${user}#${source}`;
const sourceKey = (source: string) => `login-fail#source#${source}`;
const userKey = (user: string) => `login-fail#user#${user}`;
