// Waiting for a person: the work, Ctrl-C or the time limit ends it, whichever comes first, and
// nothing is left listening afterwards. Time is the test's: sleeps resolve when the test says.
import { describe, expect, it } from 'vitest';
import { INTERRUPTED_EXIT, InterruptedError, type LoginWaits, waitForPerson } from '../../lib/client/login-wait.js';
import { reportFailure } from '../../lib/client/run-command.js';
import { capture } from './client-harness.js';

/** Sleeps the test ends by hand; Ctrl-C the test presses by hand. */
function manualWaits() {
  const sleeps: Array<{ ms: number; signal: AbortSignal; wake(): void }> = [];
  const handlers = new Set<() => void>();
  const waits: LoginWaits = {
    sleep: (ms, signal) => new Promise<void>((resolve) => sleeps.push({ ms, signal, wake: resolve })),
    onInterrupt: (handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  };
  return { waits, sleeps, handlers, press: () => [...handlers].forEach((h) => h()) };
}

const options = { timeoutMs: 180_000, interrupted: 'login cancelled (Ctrl-C); nothing was saved', onTimeout: () => new Error('too late') };

describe('waitForPerson', () => {
  it('returns what the work returns, and ends the timer and the Ctrl-C handler', async () => {
    const manual = manualWaits();
    let workSignal: AbortSignal | undefined;
    const value = await waitForPerson(manual.waits, options, async (signal) => {
      workSignal = signal;
      return 'done';
    });
    expect(value).toBe('done');
    expect(manual.sleeps.map((s) => s.ms)).toEqual([180_000]);
    expect(manual.sleeps[0]!.signal.aborted).toBe(true);
    expect(workSignal!.aborted).toBe(true);
    expect(manual.handlers.size).toBe(0);
  });

  it('throws the timeout error when the time is up, and tells the work to stop', async () => {
    const manual = manualWaits();
    let workSignal: AbortSignal | undefined;
    const waiting = waitForPerson(manual.waits, options, (signal) => {
      workSignal = signal;
      return new Promise<string>(() => undefined);
    });
    manual.sleeps[0]!.wake();
    await expect(waiting).rejects.toThrow('too late');
    expect(workSignal!.aborted).toBe(true);
    expect(manual.handlers.size).toBe(0);
  });

  it('throws InterruptedError on Ctrl-C, which tsh reports as one line and exit 130', async () => {
    const manual = manualWaits();
    const waiting = waitForPerson(manual.waits, options, () => new Promise<string>(() => undefined));
    manual.press();
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(manual.sleeps[0]!.signal.aborted).toBe(true);
    expect(manual.handlers.size).toBe(0);
    const stderr = capture();
    expect(reportFailure('tsh', error, stderr)).toBe(INTERRUPTED_EXIT);
    expect(stderr.text()).toBe('tsh: login cancelled (Ctrl-C); nothing was saved\n');
  });

  it('without a time limit, waits for the work alone', async () => {
    const manual = manualWaits();
    const value = await waitForPerson(manual.waits, { interrupted: 'x' }, async () => 42);
    expect(value).toBe(42);
    expect(manual.sleeps).toEqual([]);
  });
});
