// A background job that runs a round now and then again each interval after the last one ended,
// so rounds never overlap however long one takes. A round's failure is logged and the next round
// runs as planned: a health check or a discovery sync must outlive one bad round. A failure that
// repeats round after round (a store outage) is logged once, and again when rounds work again.
import type { Timers } from './audit-writer.js';

export interface RepeatingRoundOptions {
  /** Time between the end of one round and the start of the next. */
  intervalMs: number;
  timers: Timers;
  log: (message: string) => void;
  /** Names the job in log lines, e.g. "cluster health checks". */
  name: string;
}

export class RepeatingRound {
  private running: Promise<void> | undefined;
  private timer: unknown;
  private stopped = false;
  private started = false;
  private lastFailure: string | undefined;

  constructor(
    private readonly round: () => Promise<void>,
    private readonly options: RepeatingRoundOptions,
  ) {}

  /** Runs the first round now; resolves when it has ended. Calling it again changes nothing. */
  start(): Promise<void> {
    if (this.started) return this.running ?? Promise.resolve();
    this.started = true;
    return this.runNow();
  }

  /**
   * Runs a round now unless one is running (then that one is awaited) and plans the next one an
   * interval after it ends. For tests and for callers that know something changed.
   */
  runNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) return this.running;
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.runOnce().finally(() => {
      this.running = undefined;
      if (!this.stopped) this.timer = this.options.timers.setTimeout(() => void this.runNow(), this.options.intervalMs);
    });
    return this.running;
  }

  /** No round starts after this; resolves when the one running (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async runOnce(): Promise<void> {
    try {
      await this.round();
    } catch (error) {
      const failure = error instanceof Error ? error.message : String(error);
      if (failure !== this.lastFailure) this.options.log(`${this.options.name}: a round failed: ${failure}`);
      this.lastFailure = failure;
      return;
    }
    if (this.lastFailure !== undefined) this.options.log(`${this.options.name}: rounds work again`);
    this.lastFailure = undefined;
  }
}
