// The recorder on its own, over a store the test controls (one that fails, one that is slow):
// parts in order with the header first, characters kept whole across messages, retries that
// never hold the caller, and a bound on what it keeps while the store does not answer.
import { describe, expect, it } from 'vitest';
import { RecordingBudget } from '../../agent/recording-budget.js';
import { SessionRecorder, type RecorderOptions } from '../../agent/session-recorder.js';
import { castOutputText, parseCast } from '../../lib/core/asciicast.js';
import type { RecordingStore } from '../../lib/core/ports.js';

/** Parts in memory; `failures` puts fail first, `hold` keeps every put waiting until released. */
class PartsInMemory implements RecordingStore {
  readonly parts = new Map<number, Buffer>();
  attempts = 0;
  inFlight = 0;
  peakInFlight = 0;
  failures = 0;
  private held: (() => void)[] = [];
  hold = false;

  async putPart(_sid: string, index: number, body: Buffer): Promise<void> {
    this.attempts++;
    this.peakInFlight = Math.max(this.peakInFlight, ++this.inFlight);
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    this.inFlight--;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('store unreachable');
    }
    this.parts.set(index, body);
  }

  release(): void {
    this.hold = false;
    for (const resolve of this.held.splice(0)) resolve();
  }

  async read(): Promise<Buffer | undefined> {
    const indexes = [...this.parts.keys()].sort((a, b) => a - b);
    return indexes.length ? Buffer.concat(indexes.map((i) => this.parts.get(i)!)) : undefined;
  }

  url(sid: string): string {
    return `memory://${sid}`;
  }
}

const header = {
  timestamp: 1_700_000_000,
  command: 'sh',
  kubeport: { session_id: 's1', user: 'alice', cluster: 'dev', namespace: 'default', pod: 'web-0', type: 'exec' },
};

function recorder(store: RecordingStore, options: Partial<RecorderOptions> = {}, recordInput = false, budget?: RecordingBudget) {
  let now = 1_700_000_000_000;
  const logs: string[] = [];
  const clock = { now: () => new Date(now) };
  const r = new SessionRecorder(
    { store, clock, log: (m) => logs.push(m), options: { partIntervalMs: 60_000, ...options }, ...(budget ? { budget } : {}) },
    's1',
    header,
    recordInput,
  );
  return { r, logs, advance: (ms: number) => (now += ms) };
}

const cast = async (store: PartsInMemory) => parseCast((await store.read())!.toString());

describe('the session recorder', () => {
  it('keeps a character cut between two output messages whole, and stamps events by the injected clock', async () => {
    const store = new PartsInMemory();
    const { r, advance } = recorder(store);
    r.resize(132, 43);
    const text = Buffer.from('naïve ✓ 日本\r\n');
    for (let i = 0; i < text.length; i++) {
      advance(10);
      r.output(text.subarray(i, i + 1), 'stdout');
    }
    expect(await r.finish(1_000)).toBe(true);
    const recording = await cast(store);
    expect(recording.header).toMatchObject({ version: 2, width: 132, height: 43, timestamp: 1_700_000_000, command: 'sh' });
    expect(castOutputText(recording.events)).toBe(text.toString());
    expect(recording.events.every(([, , data]) => !data.includes('\uFFFD'))).toBe(true);
    expect(recording.events[0]).toEqual([0.01, 'o', 'n']);
  });

  it('takes 80x24 when no resize came in time, and records a late resize as an event', async () => {
    const store = new PartsInMemory();
    const { r, advance } = recorder(store, { resizeWaitMs: 100 });
    r.output(Buffer.from('x'), 'stdout');
    advance(500);
    r.resize(100, 30);
    await r.finish(1_000);
    const recording = await cast(store);
    expect([recording.header.width, recording.header.height]).toEqual([80, 24]);
    expect(recording.events.map((e) => e[1] + e[2])).toEqual(['ox', 'r100x30']);
  });

  it('records keystrokes only when asked to', async () => {
    for (const recordInput of [false, true]) {
      const store = new PartsInMemory();
      const { r } = recorder(store, {}, recordInput);
      r.input(Buffer.from('ls\r'));
      r.output(Buffer.from('file\r\n'), 'stdout');
      await r.finish(1_000);
      expect((await cast(store)).events.filter((e) => e[1] === 'i').map((e) => e[2])).toEqual(recordInput ? ['ls\r'] : []);
    }
  });

  it('cuts a part as soon as enough bytes wait, the header only in the first, and the parts join into one playable file', async () => {
    const store = new PartsInMemory();
    const { r } = recorder(store, { partMaxBytes: 1024 });
    for (let i = 0; i < 50; i++) r.output(Buffer.from(`line ${i} ${'.'.repeat(60)}\r\n`), 'stdout');
    await expect.poll(() => store.parts.size).toBeGreaterThan(2);
    await r.finish(1_000);
    const parts = [...store.parts.entries()].sort(([a], [b]) => a - b).map(([, body]) => body.toString());
    expect(parts[0]!.startsWith('{"version":2')).toBe(true);
    expect(parts.slice(1).every((p) => p.startsWith('['))).toBe(true);
    expect(castOutputText((await cast(store)).events)).toContain('line 49');
  });

  it('retries a part the store refused, in order, and finishes once all are stored', async () => {
    const store = new PartsInMemory();
    store.failures = 2;
    const { r, logs } = recorder(store);
    r.output(Buffer.from('kept\r\n'), 'stdout');
    expect(await r.finish(10_000)).toBe(true);
    expect(store.attempts).toBe(3);
    expect(castOutputText((await cast(store)).events)).toBe('kept\r\n');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/part 0 not stored \(store unreachable\); retrying/);
  });

  it('never makes the caller wait for the store, and keeps no more than its bound while the store does not answer', async () => {
    const store = new PartsInMemory();
    store.hold = true;
    const { r } = recorder(store, { partMaxBytes: 4096, maxHeldBytes: 64 * 1024 });
    const chunk = Buffer.alloc(1024, 'y');
    for (let i = 0; i < 1024; i++) r.output(chunk, 'stdout'); // 1 MiB while the store holds every put
    store.release();
    await expect.poll(() => r.unstoredBytes).toBe(0);
    r.output(Buffer.from('after the gap'), 'stdout');
    expect(await r.finish(10_000)).toBe(true);
    const recording = await cast(store);
    const held = [...store.parts.values()].reduce((n, p) => n + p.length, 0);
    expect(held).toBeLessThan(80 * 1024);
    const marker = recording.events.find((e) => e[1] === 'm');
    expect(marker?.[2]).toMatch(/^recording gap: \d+ bytes left out while the store was slow$/);
    expect(castOutputText(recording.events).endsWith('after the gap')).toBe(true);
  });

  it('gives up on the last parts at its deadline and says so, rather than holding the agent', async () => {
    const store = new PartsInMemory();
    store.failures = Infinity;
    const { r, logs } = recorder(store);
    r.output(Buffer.from('lost'), 'stdout');
    expect(await r.finish(50)).toBe(false);
    expect(logs.at(-1)).toMatch(/1 part\(s\) could not be stored in time/);
  });

  it('stores up to four parts at once while the store is slow, and the parts still join in order', async () => {
    const store = new PartsInMemory();
    store.hold = true;
    const { r } = recorder(store, { partMaxBytes: 1024 });
    for (let i = 0; i < 40; i++) r.output(Buffer.from(`line ${i} ${'.'.repeat(1000)}\r\n`), 'stdout');
    await expect.poll(() => store.attempts).toBe(4);
    expect(store.inFlight).toBe(4);
    store.release();
    expect(await r.finish(10_000)).toBe(true);
    expect(store.peakInFlight).toBe(4);
    const text = castOutputText((await cast(store)).events);
    expect(
      text
        .split('\r\n')
        .slice(0, 40)
        .map((line) => line.split(' ')[1]),
    ).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
    expect(r.gapBytes).toBe(0);
  });

  it('leaves output out once the agent-wide bound is held, even by other sessions, and counts it in gapBytes', async () => {
    const store = new PartsInMemory();
    store.hold = true;
    const budget = new RecordingBudget(32 * 1024);
    // A session that has ended but still stores its parts holds its bytes against the agent's bound.
    const ended = recorder(store, { partMaxBytes: 4096 }, false, budget);
    for (let i = 0; i < 64; i++) ended.r.output(Buffer.alloc(1024, 'x'), 'stdout');
    const endedFinishing = ended.r.finish(10_000);
    expect(budget.full).toBe(true);
    const next = recorder(store, { partMaxBytes: 4096 }, false, budget);
    next.r.output(Buffer.from('the real command output'), 'stdout');
    expect(next.r.gapBytes).toBe('the real command output'.length);
    expect(next.logs).toEqual([
      'recording of session s1: output is being left out of the recording (the recording store is not keeping up); session.end gives the bytes left out as recording_gap_bytes',
    ]);
    store.release();
    expect(await endedFinishing).toBe(true);
    expect(await next.r.finish(10_000)).toBe(true);
    expect(budget.held).toBe(0);
  });

  it('gives back its share of the agent-wide bound when it gives up on its last parts', async () => {
    const store = new PartsInMemory();
    store.failures = Infinity;
    const budget = new RecordingBudget(1024 * 1024);
    const { r } = recorder(store, {}, false, budget);
    r.output(Buffer.alloc(10_000, 'z'), 'stdout');
    expect(budget.held).toBeGreaterThan(10_000);
    expect(await r.finish(50)).toBe(false);
    expect(budget.held).toBe(0);
  });

  it('stops recording at its size limit with a marker, counts what it left out, and says so in the log once', async () => {
    const store = new PartsInMemory();
    const { r, logs } = recorder(store, { maxRecordingBytes: 8 * 1024, partMaxBytes: 1024 });
    const chunk = Buffer.alloc(100, 'a');
    for (let i = 0; i < 1000; i++) r.output(chunk, 'stdout'); // 100 KB, with escapes 12 times the limit
    expect(await r.finish(10_000)).toBe(true);
    const stored = (await store.read())!;
    expect(stored.length).toBeLessThan(8 * 1024 + 512);
    const recording = parseCast(stored.toString());
    const markers = recording.events.filter((e) => e[1] === 'm').map((e) => e[2]);
    expect(markers[0]).toBe('recording stopped: it reached its limit of 8192 bytes; output from here is left out');
    expect(markers[1]).toMatch(/^recording gap: \d+ bytes left out after the recording reached its limit of 8192 bytes$/);
    expect(castOutputText(recording.events).length + r.gapBytes).toBe(100_000);
    expect(logs.filter((line) => line.includes('left out of the recording'))).toEqual([
      'recording of session s1: output is being left out of the recording (it reached its limit of 8192 bytes); session.end gives the bytes left out as recording_gap_bytes',
    ]);
  });
});
