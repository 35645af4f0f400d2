// The agent's graceful stop (SIGTERM): the listener closes at once, so new connections are
// refused; requests in flight are answered; each connection is closed as soon as it is idle;
// streams (exec, attach, port-forward, watches, followed logs) run on until the deadline, then
// end with a message the user sees. Progress lines say what is still waited for.
import type https from 'node:https';
import type { Clock } from '../lib/core/ports.js';
import type { RequestScope } from './request-scope.js';
import { DRAIN_MESSAGE } from './stream-ending.js';
import type { StreamLifetimes } from './stream-lifetime.js';

export interface DrainDeps {
  server: https.Server;
  lifetimes: StreamLifetimes;
  /** Ends whatever is left (the agent's hard close). */
  close: () => Promise<void>;
  clock: Clock;
  onProgress: (message: string) => void;
}

/** How often idle connections are closed and progress is checked. */
const SWEEP_MS = 250;
/** How often the progress line is repeated while streams run. */
const PROGRESS_EVERY_MS = 10_000;
/** Time ended streams get to deliver their last words before their connections are dropped. */
const FAREWELL_MS = 3_000;

export class Drain {
  readonly done: Promise<void>;
  private deadline: NodeJS.Timeout | undefined;
  private deadlineAt: number;
  private resolveDone!: () => void;
  private ending = false;
  private closed = false;

  constructor(
    private readonly deps: DrainDeps,
    deadlineMs: number,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.deadlineAt = deps.clock.now().getTime() + deadlineMs;
    // The listener closes now; the callback runs once every connection, upgraded ones included, is gone.
    deps.server.close(() => this.finish());
    deps.server.closeIdleConnections();
    const waiting = describeOpen(deps.lifetimes.scopes());
    deps.onProgress(
      waiting
        ? `the agent takes no new connections; waiting up to ${Math.ceil(deadlineMs / 1000)} s for ${waiting} to end`
        : 'the agent takes no new connections; nothing open to wait for',
    );
    let lastProgress = deps.clock.now().getTime();
    const sweep = setInterval(() => {
      if (this.closed) return clearInterval(sweep);
      deps.server.closeIdleConnections();
      const now = deps.clock.now().getTime();
      if (!this.ending && now - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = now;
        const left = describeOpen(deps.lifetimes.scopes());
        if (left) deps.onProgress(`still waiting for ${left} (${Math.ceil((this.deadlineAt - now) / 1000)} s left)`);
      }
    }, SWEEP_MS);
    sweep.unref();
    this.deadline = setTimeout(() => this.endStreams(), deadlineMs);
  }

  /** Brings the deadline to `deadlineMs` from now, if that is sooner. */
  shorten(deadlineMs: number): void {
    const at = this.deps.clock.now().getTime() + deadlineMs;
    if (this.ending || at >= this.deadlineAt) return;
    this.deadlineAt = at;
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => this.endStreams(), deadlineMs);
  }

  private endStreams(): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    const ended = this.deps.lifetimes.endMatching(() => true, 'agent draining', DRAIN_MESSAGE);
    if (ended > 0) this.deps.onProgress(`ended ${ended} open stream${ended === 1 ? '' : 's'}, telling each user why`);
    // Their last words (a Status, an ERROR event) go out; whatever still lingers is dropped.
    setTimeout(() => void this.deps.close().then(() => this.finish()), FAREWELL_MS).unref();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.deadline);
    this.resolveDone();
  }
}

/** "1 exec, attach or port-forward session, 2 watches or followed logs and 1 request", or '' when nothing is open. */
function describeOpen(scopes: RequestScope[]): string {
  const sessions = scopes.filter((s) => s.upgrade).length;
  const streams = scopes.filter((s) => !s.upgrade && s.streaming).length;
  const requests = scopes.length - sessions - streams;
  const parts = [
    sessions ? `${sessions} exec, attach or port-forward session${sessions === 1 ? '' : 's'}` : '',
    streams ? `${streams} watch${streams === 1 ? '' : 'es'} or followed log${streams === 1 ? '' : 's'}` : '',
    requests ? `${requests} request${requests === 1 ? '' : 's'} in flight` : '',
  ].filter(Boolean);
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}
