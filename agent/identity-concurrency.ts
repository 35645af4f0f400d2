// What one user holds at once toward the clusters: requests in flight on the shared pool, and
// (a second instance) open streams and upgrades, so one user cannot hold every connection of
// either and leave the others waiting.
import { KubeportError } from '../lib/core/errors.js';
import type { StreamLimit } from './request-scope.js';

export class ConcurrencyPerIdentity {
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly max: number,
    /** What is counted, as the refusal names it. */
    private readonly what: string,
  ) {}

  /**
   * Takes a slot for `user` or throws a rate_limited error (429 with Retry-After). `limit`: a
   * lower cap the user's roles set (max_kubernetes_connections), named in the refusal.
   */
  admit(user: string, limit?: StreamLimit): void {
    const count = this.inFlight.get(user) ?? 0;
    if (limit !== undefined && limit.max < this.max && count >= limit.max) {
      throw new KubeportError(
        'rate_limited',
        `user ${user} already holds ${count} open ${this.what}, the most that role "${limit.role}" allows (max_kubernetes_connections: ${limit.max}); end one (an exec, attach, port-forward, watch or followed log), then try again`,
        { retryAfterSeconds: 1 },
      );
    }
    if (count >= this.max) {
      throw new KubeportError(
        'rate_limited',
        `too many ${this.what} of user ${user} are in progress at once (at most ${this.max}); wait for some to finish, then try again`,
        {
          retryAfterSeconds: 1,
        },
      );
    }
    this.inFlight.set(user, count + 1);
  }

  release(user: string): void {
    const left = (this.inFlight.get(user) ?? 1) - 1;
    if (left <= 0) this.inFlight.delete(user);
    else this.inFlight.set(user, left);
  }
}
