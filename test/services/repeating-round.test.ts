import { describe, expect, it } from 'vitest';
import { RepeatingRound } from '../../lib/services/repeating-round.js';

/** Timers fired by the test: `fire()` runs what is due, nothing runs on its own. */
function manualTimers() {
  const pending = new Map<number, { callback: () => void; ms: number }>();
  let next = 0;
  return {
    pending,
    setTimeout(callback: () => void, ms: number) {
      pending.set(++next, { callback, ms });
      return next;
    },
    clearTimeout(handle: unknown) {
      pending.delete(handle as number);
    },
    fire() {
      const due = [...pending.entries()];
      pending.clear();
      for (const [, timer] of due) timer.callback();
    },
  };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('RepeatingRound', () => {
  it('runs a round at start, then one an interval after each round ended', async () => {
    const timers = manualTimers();
    let rounds = 0;
    const job = new RepeatingRound(async () => void rounds++, { intervalMs: 30_000, timers, log: () => undefined, name: 'test' });
    await job.start();
    expect(rounds).toBe(1);
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([30_000]);
    timers.fire();
    await job.runNow(); // awaits the round the timer started
    expect(rounds).toBe(2);
    await job.stop();
    expect(timers.pending.size).toBe(0);
  });

  it('never overlaps rounds: asking for one while one runs waits for that one', async () => {
    const timers = manualTimers();
    const gate = deferred();
    let started = 0;
    const job = new RepeatingRound(
      async () => {
        started++;
        await gate.promise;
      },
      { intervalMs: 1000, timers, log: () => undefined, name: 'test' },
    );
    const first = job.start();
    const second = job.runNow();
    expect(started).toBe(1);
    expect(timers.pending.size).toBe(0); // nothing planned while a round runs
    gate.resolve();
    await Promise.all([first, second]);
    expect(started).toBe(1);
    await job.stop();
  });

  it('logs a failed round and keeps going; the same failure again is not logged again, the recovery is', async () => {
    const timers = manualTimers();
    const logs: string[] = [];
    let rounds = 0;
    const job = new RepeatingRound(
      async () => {
        rounds++;
        if (rounds <= 3) throw new Error('store down');
      },
      { intervalMs: 1000, timers, log: (line) => logs.push(line), name: 'discovery' },
    );
    await job.start();
    expect(logs).toEqual(['discovery: a round failed: store down']);
    for (let i = 0; i < 3; i++) {
      timers.fire();
      await job.runNow();
    }
    expect(rounds).toBe(4);
    expect(logs).toEqual(['discovery: a round failed: store down', 'discovery: rounds work again']);
    await job.stop();
  });

  it('stop() waits for the running round and plans no other', async () => {
    const timers = manualTimers();
    const gate = deferred();
    let ended = false;
    const job = new RepeatingRound(
      async () => {
        await gate.promise;
        ended = true;
      },
      { intervalMs: 1000, timers, log: () => undefined, name: 'test' },
    );
    void job.start();
    const stopping = job.stop();
    gate.resolve();
    await stopping;
    expect(ended).toBe(true);
    expect(timers.pending.size).toBe(0);
    await job.runNow();
    expect(timers.pending.size).toBe(0);
  });
});
