// The real clock and randomness, for entry points; tests pass their own.
import { randomBytes } from 'node:crypto';
import type { Clock, Random } from '../core/ports.js';

export const systemClock: Clock = { now: () => new Date() };
export const systemRandom: Random = { bytes: (n) => new Uint8Array(randomBytes(n)) };

/** Timers that never keep the process alive on their own (background loops, flush intervals). */
export const systemTimers = {
  setTimeout(callback: () => void, ms: number): unknown {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
