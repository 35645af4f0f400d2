// The recorder on its own, over a store the test controls (one that fails, one that is slow):
// parts in order with the header first, characters kept whole across messages, retries that
// never hold the caller, and a bound on what it keeps while the store does not answer.
import { describe, expect, it } from 'vitest';
import { SessionRecorder, type RecorderOptions } from '../../agent/session-recorder.js';
import { castOutputText, parseCast } from '../../lib/core/asciicast.js';
import type { RecordingStore } from '../../lib/core/ports.js';

/** Parts in memory; `failures` puts fail first, `hold` keeps every put waiting until released. */
class PartsInMemory implements RecordingStore {
  readonly parts = new Map<number, Buffer>();
  attempts = 0;
  failures = 0;
  private held: (() => void)[] = [];
  hold = false;

  async putPart(_sid: string, index: number, body: Buffer): Promise<void> {
    this.attempts++;
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
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

function recorder(store: RecordingStore, options: Partial<RecorderOptions> = {}, recordInput = false) {
  let now = 1_700_000_000_000;
  const logs: string[] = [];
  const clock = { now: () => new Date(now) };
  const r = new SessionRecorder(
    { store, clock, log: (m) => logs.push(m), options: { partIntervalMs: 60_000, ...options } },
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
});
