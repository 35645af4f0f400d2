// Waiting for a person to finish a login elsewhere (a browser tab, another device): bounded in
// time, ended by Ctrl-C without a stack trace, and leaving nothing behind that would keep tsh
// running. Sleeping and Ctrl-C are dependencies, so tests decide when time passes and when the
// user gives up.
import { KubeportError } from '../core/errors.js';

/** Exit status of a command the user ended with Ctrl-C (128 + SIGINT), as shells report it. */
export const INTERRUPTED_EXIT = 130;

/** The user pressed Ctrl-C while tsh waited: one line, exit 130. */
export class InterruptedError extends KubeportError {
  constructor(message: string) {
    super('bad_request', message);
    this.name = 'InterruptedError';
  }
}

export interface LoginWaits {
  /** Resolves after `ms`, or at once when `signal` aborts (it never rejects). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Calls `handler` on Ctrl-C until the returned function is called. */
  onInterrupt(handler: () => void): () => void;
}

export function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/**
 * Ctrl-C reaches tsh as SIGINT; while a handler is attached, Node does not end the process
 * itself, so the waiting code can close its listener and say what happened.
 */
export function processInterrupts(handler: () => void): () => void {
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

/**
 * Runs `work` until it settles, Ctrl-C is pressed (InterruptedError), or `timeoutMs` (when given)
 * passes (`onTimeout()` is thrown). `work` gets a signal that aborts on whichever ends the wait first,
 * so it can stop its own timers and requests.
 */
export async function waitForPerson<T>(
  waits: LoginWaits,
  options: { interrupted: string; timeoutMs?: number; onTimeout?: () => Error },
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const stopListening = waits.onInterrupt(() => controller.abort(new InterruptedError(options.interrupted)));
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true });
  });
  // Settled by the race below; without this, a rejection after the race would be reported as unhandled.
  aborted.catch(() => undefined);
  const racers: Promise<T>[] = [work(controller.signal), aborted];
  const { timeoutMs, onTimeout } = options;
  if (timeoutMs !== undefined && onTimeout) {
    racers.push(
      waits.sleep(timeoutMs, controller.signal).then(() => {
        if (!controller.signal.aborted) controller.abort(onTimeout());
        return aborted;
      }),
    );
  }
  try {
    return await Promise.race(racers);
  } finally {
    stopListening();
    if (!controller.signal.aborted) controller.abort(new Error('the wait is over'));
  }
}
