// Keeps frames in order around asynchronous header blocks: a frame that is ready is handed on
// at once when nothing is waiting before it (the common case: DATA, PING), otherwise it waits
// its turn behind the header block still being (de)compressed. Frame order is the protocol's
// order: a DATA frame must never overtake the SYN_STREAM that opened its stream.

export class OrderedQueue<T> {
  private readonly pending: Array<{ done: boolean; value?: T; error?: unknown }> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly deliver: (value: T) => void,
    private readonly failed: (error: unknown) => void,
  ) {}

  /** True while something is waiting (a header block in progress). */
  get busy(): boolean {
    return this.pending.length > 0;
  }

  /** Calls back once everything pushed so far has been delivered (at once if nothing waits). */
  whenIdle(callback: () => void): void {
    if (this.pending.length === 0) callback();
    else this.idleWaiters.push(callback);
  }

  push(value: T | Promise<T>): void {
    if (!(value instanceof Promise)) {
      if (this.pending.length === 0) this.deliver(value);
      else this.pending.push({ done: true, value });
      return;
    }
    const slot: { done: boolean; value?: T; error?: unknown } = { done: false };
    this.pending.push(slot);
    value.then(
      (resolved) => {
        slot.done = true;
        slot.value = resolved;
        this.drain();
      },
      (error: unknown) => {
        slot.done = true;
        slot.error = error ?? new Error('header block failed');
        this.drain();
      },
    );
  }

  private drain(): void {
    while (this.pending.length > 0 && this.pending[0]!.done) {
      const slot = this.pending.shift()!;
      if (slot.error !== undefined) {
        // Nothing after a broken header block can be trusted: the zlib context is lost.
        this.pending.length = 0;
        this.failed(slot.error);
        break;
      }
      this.deliver(slot.value as T);
    }
    if (this.pending.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }
}
