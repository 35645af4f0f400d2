// How long anything the agent forwards may live. Every forwarded response and every upgraded
// connection is tracked from the moment it goes upstream until it closes; one sweep per agent
// ends those whose certificate has expired, and authorizes again those open longer than one
// sweep, ending them once the user is removed, revoked or no longer allowed. Short requests
// finish before any sweep sees them twice, so they cost a Set insert and delete, no timers.
import type { Clock } from '../lib/core/ports.js';
import { publicError } from '../lib/core/public-error.js';
import type { EndReason, RequestScope } from './request-scope.js';

export interface TrackedStream {
  readonly scope: RequestScope;
  readonly notAfter: number;
  /** Ends the stream; `message`, when given, is shown to the user where the protocol allows. */
  readonly end: (reason: EndReason, message?: string) => void;
  /** Seen by a sweep already: the next sweep authorizes it again. */
  seen: boolean;
  checking: boolean;
}

export class StreamLifetimes {
  private readonly open = new Set<TrackedStream>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly clock: Clock,
    /** Authorizes the scope's request again as things are now; rejects when it is no longer allowed. */
    private readonly recheck: (scope: RequestScope) => Promise<unknown>,
    everyMs: number,
    /** Why a stream must end as soon as it is tracked (a lock that arrived while it was being authorized), if it must. */
    private readonly refusalOnTrack: (scope: RequestScope) => string | undefined = () => undefined,
  ) {
    this.timer = setInterval(() => this.sweep(), everyMs);
    this.timer.unref();
  }

  /** Tracks a response or connection until `release`; `end` must close it (and then release it). */
  track(scope: RequestScope, end: (reason: EndReason, message?: string) => void): TrackedStream {
    const tracked: TrackedStream = { scope, notAfter: scope.identity!.notAfter.getTime(), end, seen: false, checking: false };
    this.open.add(tracked);
    const refusal = this.refusalOnTrack(scope);
    // Ended once the caller has its handle (end() releases it); a lock event that came between
    // this request's authorization and now found nothing to end.
    if (refusal !== undefined) queueMicrotask(() => this.open.has(tracked) && this.stop(tracked, 'locked', refusal));
    return tracked;
  }

  release(tracked: TrackedStream): void {
    this.open.delete(tracked);
  }

  get size(): number {
    return this.open.size;
  }

  /** The scopes of everything open now (a drain says what it waits for). */
  scopes(): RequestScope[] {
    return [...this.open].map((tracked) => tracked.scope);
  }

  /** Ends every open stream whose scope matches (a new lock, a drain deadline); returns how many. */
  endMatching(match: (scope: RequestScope) => boolean, reason: EndReason, message: string): number {
    let ended = 0;
    for (const tracked of [...this.open]) {
      if (!match(tracked.scope)) continue;
      this.stop(tracked, reason, message);
      ended++;
    }
    return ended;
  }

  /** Ends every tracked stream (agent shutdown) and stops sweeping. */
  close(): void {
    clearInterval(this.timer);
    for (const tracked of [...this.open]) this.stop(tracked, 'agent closed');
  }

  private sweep(): void {
    if (this.open.size === 0) return;
    const now = this.clock.now().getTime();
    for (const tracked of this.open) {
      if (now >= tracked.notAfter) {
        this.stop(tracked, 'certificate expired');
      } else if (!tracked.seen) {
        tracked.seen = true;
      } else if (!tracked.checking) {
        tracked.checking = true;
        this.recheck(tracked.scope).then(
          () => (tracked.checking = false),
          (error: unknown) => {
            // The refusal a new request would get says what changed (user removed, roles, a lock).
            const refusal = publicError(error);
            const message = refusal.code === 'internal' ? undefined : `Kubeport ended this session: ${refusal.message}`;
            if (this.open.has(tracked)) this.stop(tracked, 'no longer authorized', message);
          },
        );
      }
    }
  }

  private stop(tracked: TrackedStream, reason: EndReason, message?: string): void {
    this.open.delete(tracked);
    tracked.end(reason, message);
  }
}
