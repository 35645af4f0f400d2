// Slows down password, TOTP and invite guessing without letting anyone lock a user out.
// Attempts are counted per (user, source) and per source as they arrive, before any check, so
// parallel guesses are counted too; login failures are counted per user. The per-user limit only
// refuses sources that have already tried that user, so an attacker who floods a name cannot
// keep its owner from logging in from a clean address. Logins and invite enrollments are counted
// apart: bad invites are refused per source and never count against the user's own logins.
import { KubeportError } from '../core/errors.js';
import type { Clock, StateStore } from '../core/ports.js';
import { sourceBucket } from '../core/source-bucket.js';

export interface ThrottleLimits {
  windowMs: number;
  /** Attempts one source may make for one user (a success clears them). */
  perUserSource: number;
  /** Attempts one source may make for any users; generous, as an office shares one address. */
  perSource: number;
  /** Failures one user may collect from all sources; undefined: failures are not counted per user. */
  perUser?: number;
}

export const defaultThrottleLimits: ThrottleLimits = { windowMs: 15 * 60_000, perUserSource: 5, perSource: 200, perUser: 30 };

/**
 * Invite enrollment takes two calls per try (TOTP secret, then password and code), hence more
 * tries per user. Invite tokens cannot be guessed; the limit stops floods of failures and audit
 * events. Failures are never counted per user: whoever knows a user's name would otherwise lock
 * that user out of login with bad invites.
 */
export const enrollmentThrottleLimits: ThrottleLimits = { windowMs: 15 * 60_000, perUserSource: 10, perSource: 100 };

export type ThrottledAction = 'login' | 'enrollment';

/**
 * A refusal for too many attempts. Only the first refusal of each limit is worth an audit event:
 * auditing every refused call would hand whoever floods the endpoint a flood of audit writes.
 */
export class ThrottledError extends KubeportError {
  constructor(
    message: string,
    retryAfterSeconds: number,
    /** This call crossed a limit (the later refusals of the window repeat it). */
    readonly firstRefusal: boolean,
  ) {
    super('rate_limited', message, { retryAfterSeconds });
  }
}

interface Counter {
  count: number;
  expiresAt: Date;
}

export class LoginThrottle {
  constructor(
    private readonly state: StateStore,
    private readonly clock: Clock,
    private readonly limits: ThrottleLimits = defaultThrottleLimits,
    private readonly action: ThrottledAction = 'login',
  ) {}

  /**
   * Counts this attempt before it is checked, so parallel guesses cannot all pass a check that
   * none of them has been counted in yet. Throws a 429 error with a retry time when it must wait.
   */
  async admit(user: string, rawSource: string): Promise<void> {
    const source = sourceBucket(rawSource);
    const expiresAt = new Date(this.clock.now().getTime() + this.limits.windowMs);
    const pair = this.pairKey(user, source, await this.generation(user));
    const [attempts, sourceAttempts] = await Promise.all([
      this.state.increment(pair, expiresAt),
      this.state.increment(this.sourceKey(source), expiresAt),
    ]);
    // Only the user's failure count is read on every attempt; the window ends of the attempt
    // counters are read only when one of them refuses, to name the retry time.
    const perUser = this.limits.perUser;
    const byUser = perUser !== undefined && attempts > 1 ? await this.state.counter(userKey(user)) : undefined;
    const refusing = [
      attempts > this.limits.perUserSource ? pair : undefined,
      sourceAttempts > this.limits.perSource ? this.sourceKey(source) : undefined,
    ].filter((key): key is string => key !== undefined);
    // A source's first try for this user is never refused by the user's own count.
    const userLocked = byUser !== undefined && perUser !== undefined && byUser.count >= perUser;
    const blocking: Counter[] = [
      ...(await Promise.all(refusing.map((key) => this.state.counter(key)))).filter((c): c is Counter => c !== undefined),
      ...(userLocked ? [byUser] : []),
    ];
    if (blocking.length === 0) return;
    const until = Math.max(...blocking.map((c) => c.expiresAt.getTime()));
    const retryAfterSeconds = Math.max(1, Math.ceil((until - this.clock.now().getTime()) / 1000));
    // Only a limit of this user can an admin lift; one of the whole address just has to run out.
    const byThisUser = userLocked || refusing.includes(pair);
    const wait = `try again in ${waitText(retryAfterSeconds)}`;
    const message =
      this.action === 'enrollment'
        ? `too many invite enrollment attempts ${byThisUser ? `for ${user}` : 'from your address'}; ${wait}`
        : byThisUser
          ? `too many failed logins for ${user}; ${wait} or ask an admin to run: tctl users unlock ${user}`
          : `too many failed logins from your address; ${wait}`;
    // A user's own failure lock refuses each source at most perUserSource times a window.
    const firstRefusal =
      attempts === this.limits.perUserSource + 1 ||
      sourceAttempts === this.limits.perSource + 1 ||
      (userLocked && attempts <= this.limits.perUserSource);
    throw new ThrottledError(message, retryAfterSeconds, firstRefusal);
  }

  /**
   * Ends a user's lockout (tctl users unlock): the user's failure count goes, and the attempt
   * counters of every source move to a new generation. The state store cannot list keys, so the
   * counters of sources not known here are left to expire unread rather than deleted. Returns
   * how many failed logins were counted against the user, so the admin learns whether any were.
   */
  async unlock(user: string): Promise<{ failuresCleared: number }> {
    const failuresCleared = (await this.state.counter(userKey(user)))?.count ?? 0;
    await this.state.increment(generationKey(this.action, user), new Date(this.clock.now().getTime() + GENERATION_TTL_MS));
    await this.state.delete(userKey(user));
    return { failuresCleared };
  }

  /** Counts a failure against the user, when this throttle counts per user (logins only). */
  async recordFailure(user: string): Promise<void> {
    if (this.limits.perUser === undefined) return;
    await this.state.increment(userKey(user), new Date(this.clock.now().getTime() + this.limits.windowMs));
  }

  async recordSuccess(user: string, rawSource: string): Promise<void> {
    await this.state.delete(this.pairKey(user, sourceBucket(rawSource), await this.generation(user)));
  }

  private async generation(user: string): Promise<number> {
    return (await this.state.counter(generationKey(this.action, user)))?.count ?? 0;
  }

  // Login keys keep the names they always had (generation 0, no unlock yet), so counters in
  // flight survive an upgrade.
  private pairKey(user: string, source: string, generation: number): string {
    const base = `${this.action}-attempt#pair#${user}#${source}`;
    return generation === 0 ? base : `${base}#g${generation}`;
  }

  private sourceKey(source: string): string {
    return `${this.action}-attempt#source#${source}`;
  }
}

const userKey = (user: string) => `login-fail#user#${user}`;
const generationKey = (action: ThrottledAction, user: string) => `${action}-unlock#user#${user}`;
// Outlives every counter of an earlier generation by far; when it ends, generation 0's counters
// have long expired, so going back to it opens nothing.
const GENERATION_TTL_MS = 30 * 24 * 3_600_000;

/** "45s", "12m", "1h5m": how long a person waits, to the nearest minute past a minute (a second more is noise). */
export function waitText(seconds: number): string {
  if (seconds < 90) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes}m` : `${Math.floor(minutes / 60)}h${minutes % 60 ? `${minutes % 60}m` : ''}`;
}
