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

export const defaultThrottleLimits: ThrottleLimits = { windowMs: 15 * 60_000, perUserSource: 5, perSource: 50, perUser: 30 };

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
    const attempts = await this.state.increment(pairKey(user, source), expiresAt);
    const [pair, bySource, byUser] = await Promise.all([
      this.state.counter(pairKey(user, source)),
      this.state.counter(sourceKey(source)),
      this.state.counter(userKey(user)),
    ]);
    const blocking = [
      attempts > this.limits.perUserSource ? pair : undefined,
      bySource && bySource.count >= this.limits.perSource ? bySource : undefined,
      // A source's first try for this user is never refused by the user's own count.
      attempts > 1 && byUser && byUser.count >= this.limits.perUser ? byUser : undefined,
    ].filter((c): c is Counter => c !== undefined);
    if (blocking.length === 0) return;
    const until = Math.max(...blocking.map((c) => c.expiresAt.getTime()));
    const retryAfterSeconds = Math.max(1, Math.ceil((until - this.clock.now().getTime()) / 1000));
    throw new KubeportError('rate_limited', `too many failed logins; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
  }

  async recordFailure(user: string, rawSource: string): Promise<void> {
    const source = sourceBucket(rawSource);
    const expiresAt = new Date(this.clock.now().getTime() + this.limits.windowMs);
    await Promise.all([sourceKey(source), userKey(user)].map((key) => this.state.increment(key, expiresAt)));
  }

  async recordSuccess(user: string, rawSource: string): Promise<void> {
    await this.state.delete(pairKey(user, sourceBucket(rawSource)));
  }
}

/** IPv6 clients get a whole /64 each, so addresses within one count as one source. */
export function sourceBucket(ip: string): string {
  const address = ip.replace(/^::ffff:/i, '');
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

const pairKey = (user: string, source: string) => `login-fail#pair#${user}#${source}`;
const sourceKey = (source: string) => `login-fail#source#${source}`;
const userKey = (user: string) => `login-fail#user#${user}`;
