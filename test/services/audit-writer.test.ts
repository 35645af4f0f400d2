import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoClient, makeS3Client } from '../../lib/adapters/aws/clients.js';
import { DynamoAuditLog } from '../../lib/adapters/aws/dynamo-audit-log.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { startEmbeddedDynamoDb, type EmbeddedStore } from '../../lib/adapters/local/embedded-dynamodb.js';
import { startEmbeddedS3 } from '../../lib/adapters/local/embedded-s3.js';
import { FileAuditSpool } from '../../lib/adapters/local/file-audit-spool.js';
import { S3AuditArchive } from '../../lib/adapters/aws/s3-audit-archive.js';
import { systemClock, systemTimers } from '../../lib/adapters/system.js';
import type { AuditArchive, AuditEvent, AuditLog, AuditQuery, Clock, Random } from '../../lib/core/ports.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { BufferedAuditWriter, type BufferedAuditWriterOptions, type Timers } from '../../lib/services/audit-writer.js';
import { archivedObjects } from '../support/audit-archive.js';
import { countByUid, scanAuditEvents } from '../support/audit-table.js';

const root = mkdtempSync(join(tmpdir(), 'audit-writer-'));
let dynamo: EmbeddedStore;
let client: DynamoDBClient;
let s3: EmbeddedStore;
let s3Client: S3Client;
const startS3 = () => startEmbeddedS3({ dataDir: join(root, 's3'), buckets: ['kubeport-audit'] });
const writers: BufferedAuditWriter[] = [];

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb({ dataDir: join(root, 'dynamodb') });
  // Asked at each connection: a restarted store listens on a fresh socket.
  client = makeDynamoClient({ socketPath: () => dynamo.socketPath, region: 'local' });
  s3 = await startS3();
  s3Client = makeS3Client({ socketPath: () => s3.socketPath, region: 'local', forcePathStyle: true });
});

afterEach(async () => {
  await Promise.all(writers.splice(0).map((writer) => writer.close()));
});

afterAll(async () => {
  client?.destroy();
  s3Client?.destroy();
  await dynamo?.close();
  await s3?.close();
  rmSync(root, { recursive: true, force: true });
});

let counter = 0;
const event = (n: number, prefix = 'ev'): AuditEvent => ({
  event: 'kube.request',
  code: 'T3009I',
  time: new Date(Date.UTC(2030, 2, 10, 12, 0, 0, n)).toISOString(),
  uid: `${prefix}-${n}`,
  user: 'alice',
});

async function freshTable() {
  const tables = tableNamesWithPrefix(`aw-${++counter}-`);
  await createTables(client, tables);
  return { log: new DynamoAuditLog(client, tables.audit, systemClock), table: tables.audit };
}

/** The store as the writer sees it, with a hand on its writes: each write may be held or refused first. */
class ObservedStore implements AuditLog {
  readonly batches: number[] = [];
  failuresLeft = 0;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  private writesBeforeHold: number | undefined;

  constructor(private readonly inner: AuditLog) {}

  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  /** Lets `writes` more writes through, then holds the rest. */
  holdAfter(writes: number): void {
    this.writesBeforeHold = writes;
  }

  emit(event: AuditEvent): Promise<void> {
    return this.inner.emit(event);
  }

  async write(events: AuditEvent[]): Promise<void> {
    await this.gate;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('ProvisionedThroughputExceededException');
    }
    await this.inner.write(events);
    this.batches.push(events.length);
    if (this.writesBeforeHold !== undefined && --this.writesBeforeHold <= 0) {
      this.writesBeforeHold = undefined;
      this.hold();
    }
  }

  search(query: AuditQuery) {
    return this.inner.search(query);
  }
}

/** Timers that run for real and remember each wait asked for. */
function recordingTimers(): Timers & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    setTimeout: (callback, ms) => {
      asked.push(ms);
      return systemTimers.setTimeout(callback, ms);
    },
    clearTimeout: (handle) => systemTimers.clearTimeout(handle),
  };
}

const midRandom: Random = { bytes: (n) => new Uint8Array(n).fill(128) };

async function makeWriter(
  store: AuditLog,
  options: Partial<BufferedAuditWriterOptions> = {},
  extra: {
    spoolDir?: string;
    spoolBounds?: { maxBytes: number; reserveBytes: number };
    clock?: Clock;
    timers?: Timers;
    random?: Random;
    archive?: AuditArchive;
    archiveSpoolDir?: string;
  } = {},
) {
  const logged: string[] = [];
  const log = (line: string) => logged.push(line);
  const spoolDir = extra.spoolDir ?? join(root, `spool-${++counter}`);
  const spool = await FileAuditSpool.open(spoolDir, { log, ...extra.spoolBounds });
  const archiveSpool = extra.archiveSpoolDir ? await FileAuditSpool.open(extra.archiveSpoolDir, { log }) : undefined;
  const writer = new BufferedAuditWriter(
    {
      store,
      spool,
      spoolLocation: spoolDir,
      archive: extra.archive,
      archiveSpool,
      clock: extra.clock ?? systemClock,
      random: extra.random ?? midRandom,
      timers: extra.timers ?? systemTimers,
      log,
    },
    { flushIntervalMs: 20, retryBaseMs: 10, retryMaxMs: 200, probeIntervalMs: 20, ...options },
  );
  writers.push(writer);
  return { writer, spool, logged, archiveSpool };
}

async function expectStoredOnce(table: string, uids: string[]): Promise<void> {
  const counts = countByUid(await scanAuditEvents(client, table));
  const wrong = uids.filter((uid) => counts.get(uid) !== 1).map((uid) => `${uid}: ${counts.get(uid) ?? 0}`);
  expect(wrong).toEqual([]);
  expect(counts.size).toBe(uids.length);
}

describe('BufferedAuditWriter', () => {
  it('writes full batches of 25 at once and keeps the rest until the flush interval ends', async () => {
    const { log, table } = await freshTable();
    const store = new ObservedStore(log);
    const { writer } = await makeWriter(store, { flushIntervalMs: 60_000 });
    for (let n = 0; n < 60; n++) writer.submit(event(n));
    await expect.poll(() => writer.counters().written, { timeout: 10_000 }).toBe(50);
    expect(store.batches).toEqual([25, 25]);
    expect(writer.counters()).toEqual({ written: 50, spooled: 0, dropped: 0, pending: 10 });

    const quick = await makeWriter(store, { flushIntervalMs: 10 });
    for (let n = 60; n < 70; n++) quick.writer.submit(event(n));
    await expect.poll(() => quick.writer.counters().written, { timeout: 10_000 }).toBe(10);
    expect(store.batches).toEqual([25, 25, 10]);

    await writer.flush(5_000);
    expect(writer.counters()).toEqual({ written: 60, spooled: 0, dropped: 0, pending: 0 });
    await expectStoredOnce(
      table,
      Array.from({ length: 70 }, (_, n) => `ev-${n}`),
    );
  });

  it('retries a refused write after exponential, jittered waits and stores it once', async () => {
    const { log, table } = await freshTable();
    const store = new ObservedStore(log);
    store.failuresLeft = 2;
    const timers = recordingTimers();
    let draws = 0;
    const random: Random = { bytes: () => new Uint8Array([draws++ % 2 === 0 ? 0 : 255]) };
    const { writer } = await makeWriter(store, { retryBaseMs: 20, writeAttempts: 3, flushIntervalMs: 60_000 }, { timers, random });
    for (let n = 0; n < 25; n++) writer.submit(event(n));
    await expect.poll(() => writer.counters().written, { timeout: 10_000 }).toBe(25);
    // Attempt 1 waited 20 ms with the least jitter (half), attempt 2 40 ms with the most.
    expect(timers.asked.filter((ms) => ms < 1_000)).toEqual([10, 40]);
    expect(writer.healthy).toBe(true);
    expect(writer.counters()).toMatchObject({ spooled: 0, dropped: 0 });
    await expectStoredOnce(
      table,
      Array.from({ length: 25 }, (_, n) => `ev-${n}`),
    );
  });

  it('keeps at most maxPending events in memory: the rest wait in the spool and are stored once', async () => {
    const { log, table } = await freshTable();
    const store = new ObservedStore(log);
    store.hold();
    const { writer, spool } = await makeWriter(store, { maxPending: 50, maxInFlight: 2 });
    for (let n = 0; n < 200; n++) writer.submit(event(n));
    await expect.poll(() => writer.counters().spooled, { timeout: 10_000 }).toBe(150);
    expect(spool.size()).toBe(150);
    expect(writer.counters()).toMatchObject({ written: 0, pending: 200, dropped: 0 });
    // A full memory is not a store outage.
    expect(writer.healthy).toBe(true);

    store.release();
    await expect.poll(() => writer.counters().pending, { timeout: 10_000 }).toBe(0);
    expect(writer.counters()).toEqual({ written: 200, spooled: 150, dropped: 0, pending: 0 });
    await expectStoredOnce(
      table,
      Array.from({ length: 200 }, (_, n) => `ev-${n}`),
    );
  });

  it('spools while the store is stopped under a steady load and replays it once restarted: every event stored once', async () => {
    const { log, table } = await freshTable();
    const { writer, logged, spool } = await makeWriter(log);
    let submitted = 0;
    const load = setInterval(() => {
      for (let i = 0; i < 5; i++) writer.submit(event(submitted++, 'load'));
    }, 10);
    try {
      await expect.poll(() => writer.counters().written, { timeout: 5_000 }).toBeGreaterThan(50);
      await dynamo.close();
      await expect.poll(() => writer.healthy, { timeout: 10_000 }).toBe(false);
      expect(logged.join('\n')).toContain(`audit store unreachable: events are spooled to ${spool.dir}; they are replayed when it answers`);
      await expect.poll(() => spool.size(), { timeout: 5_000 }).toBeGreaterThan(50);
      // Still down after the first probes: nothing is lost while it stays down.
      expect(writer.healthy).toBe(false);
      dynamo = await startEmbeddedDynamoDb({ dataDir: join(root, 'dynamodb') });
      await expect.poll(() => writer.healthy, { timeout: 10_000 }).toBe(true);
      // Healthy while the replay goes on; the line comes once the spool is empty.
      await expect.poll(() => logged.join('\n'), { timeout: 10_000 }).toMatch(/audit store back: [1-9]\d* spooled events replayed/);
    } finally {
      clearInterval(load);
    }
    await writer.flush(5_000);
    await expect.poll(() => writer.counters().pending, { timeout: 10_000 }).toBe(0);
    const counters = writer.counters();
    expect(counters.spooled).toBeGreaterThan(0);
    expect(counters.dropped).toBe(0);
    expect(counters.written).toBe(submitted);
    await expectStoredOnce(
      table,
      Array.from({ length: submitted }, (_, n) => `load-${n}`),
    );
  }, 30_000);

  it('flushes everything in memory to the store on close', async () => {
    const { log, table } = await freshTable();
    const { writer, logged } = await makeWriter(log, { flushIntervalMs: 60_000 });
    for (let n = 0; n < 30; n++) writer.submit(event(n));
    await writer.flush(5_000);
    await writer.close();
    expect(writer.counters()).toEqual({ written: 30, spooled: 0, dropped: 0, pending: 0 });
    expect(logged.at(-1)).toBe('audit at shutdown: written 30, spooled 0, dropped 0, pending 0');
    await expectStoredOnce(
      table,
      Array.from({ length: 30 }, (_, n) => `ev-${n}`),
    );
  });

  it('spools what the store does not take by the flush deadline, and a new writer over that spool stores it', async () => {
    const { log, table } = await freshTable();
    const spoolDir = join(root, `spool-shared-${++counter}`);
    const first = await makeWriter(log, { flushIntervalMs: 60_000 }, { spoolDir });
    await dynamo.close();
    try {
      for (let n = 0; n < 40; n++) first.writer.submit(event(n));
      await first.writer.flush(300);
      await first.writer.close();
      expect(first.writer.counters()).toMatchObject({ written: 0, spooled: 40, dropped: 0, pending: 40 });
    } finally {
      dynamo = await startEmbeddedDynamoDb({ dataDir: join(root, 'dynamodb') });
    }

    // As a process started again on the same data directory.
    const second = await makeWriter(log, {}, { spoolDir });
    expect(second.spool.size()).toBe(40);
    await expect.poll(() => second.writer.counters().pending, { timeout: 10_000 }).toBe(0);
    expect(second.writer.counters()).toEqual({ written: 40, spooled: 0, dropped: 0, pending: 0 });
    await expectStoredOnce(
      table,
      Array.from({ length: 40 }, (_, n) => `ev-${n}`),
    );
  }, 20_000);

  it('takes submissions without an exception while the store refuses every write, and stores them once it answers', async () => {
    const { log } = await freshTable();
    const store = new ObservedStore(log);
    store.failuresLeft = Number.POSITIVE_INFINITY;
    const { writer, logged } = await makeWriter(store, { writeAttempts: 1 });
    for (let n = 0; n < 30; n++) expect(() => writer.submit(event(n))).not.toThrow();
    await expect.poll(() => writer.healthy, { timeout: 10_000 }).toBe(false);
    expect(logged.join('\n')).toContain('audit store unreachable');
    store.failuresLeft = 0;
    await expect.poll(() => writer.healthy, { timeout: 5_000 }).toBe(true);
    expect(writer.counters()).toMatchObject({ written: 30, dropped: 0, pending: 0 });
  });

  it('archives what was stored in larger objects; an archive that is down neither blocks nor loses the store path', async () => {
    const { log, table } = await freshTable();
    const archive = new S3AuditArchive(s3Client, 'kubeport-audit', systemClock);
    await s3.close();
    const archiveSpoolDir = join(root, `archive-spool-${++counter}`);
    const { writer, logged, archiveSpool } = await makeWriter(
      log,
      { archiveMaxEvents: 40, archiveMaxPending: 80, archiveIntervalMs: 60_000 },
      { archive, archiveSpoolDir },
    );
    try {
      for (let n = 0; n < 200; n++) writer.submit(event(n, 'archived'));
      await expect.poll(() => writer.counters().written, { timeout: 10_000 }).toBe(200);
      expect(writer.healthy).toBe(true);
      await expect.poll(() => logged.join('\n'), { timeout: 10_000 }).toContain('audit archive append failed, retrying');
      // Beyond 80 waiting events, the oldest objects wait on disk.
      await expect.poll(() => writer.archiveCounters(), { timeout: 10_000 }).toMatchObject({ archived: 0, pending: 200, dropped: 0 });
      expect(archiveSpool!.size()).toBeGreaterThanOrEqual(120);
    } finally {
      s3 = await startS3();
    }

    await expect.poll(() => writer.archiveCounters(), { timeout: 15_000 }).toMatchObject({ archived: 200, pending: 0, dropped: 0 });
    expect(logged.join('\n')).toMatch(/audit archive back after \d+ failed appends/);
    const objects = (await archivedObjects(s3Client, 'kubeport-audit')).map((o) => o.filter((e) => e.uid.startsWith('archived-')));
    expect(objects.flat().length).toBe(200);
    expect(Math.max(...objects.map((o) => o.length))).toBe(40);
    expect([...countByUid(objects.flat()).values()].every((count) => count === 1)).toBe(true);
    await expectStoredOnce(
      table,
      Array.from({ length: 200 }, (_, n) => `archived-${n}`),
    );
  }, 30_000);

  it('writes its counters to the log when they changed, and the archive takes what is left on flush', async () => {
    const { log } = await freshTable();
    const archive = new S3AuditArchive(s3Client, 'kubeport-audit', systemClock);
    const { writer, logged } = await makeWriter(log, { countersLogIntervalMs: 30 }, { archive });
    for (let n = 0; n < 3; n++) writer.submit(event(n, 'counted'));
    await expect
      .poll(() => logged, { timeout: 10_000 })
      .toContain('audit: written 3, spooled 0, dropped 0, pending 0; archived 0, archive pending 3, archive dropped 0');
    await writer.flush(5_000);
    expect(writer.archiveCounters()).toEqual({ archived: 3, pending: 0, dropped: 0 });
    const counted = (await archivedObjects(s3Client, 'kubeport-audit')).filter((o) => o.some((e) => e.uid.startsWith('counted-')));
    expect(counted.map((o) => o.map((e) => e.uid))).toEqual([['counted-0', 'counted-1', 'counted-2']]);
  });
  it('turns unhealthy before the spool is full, stays so for a minute after events were dropped, and heals once the spool has room', async () => {
    const { log } = await freshTable();
    const store = new ObservedStore(log);
    // A store that takes writes but never finishes them: memory fills, then the spool.
    store.hold();
    let now = Date.UTC(2030, 2, 10, 12);
    const clock: Clock = { now: () => new Date(now) };
    const { writer, spool, logged } = await makeWriter(
      store,
      { maxPending: 10, batchSize: 5, maxInFlight: 1, replayChunk: 5 },
      { clock, spoolBounds: { maxBytes: 4_000, reserveBytes: 1_500 } },
    );
    let submitted = 0;
    const submitOne = async () => {
      writer.submit(event(submitted++, 'flood'));
      await expect.poll(() => writer.counters().spooled + writer.counters().dropped, { timeout: 5_000 }).toBe(Math.max(0, submitted - 10));
    };
    while (writer.healthy) await submitOne();
    // The reserve: it said so before one event was lost.
    expect(writer.counters().dropped).toBe(0);
    expect(spool.hasRoom()).toBe(false);
    while (writer.counters().dropped === 0) await submitOne();
    expect(logged.join('\n')).toContain('audit events lost: the spool refused 1 events');
    expect(writer.healthy).toBe(false);

    // The store finishes its writes and the spool is replayed: room again, but the drop is recent.
    store.release();
    await expect.poll(() => writer.counters().pending, { timeout: 10_000 }).toBe(0);
    expect(spool.hasRoom()).toBe(true);
    now += 59_000;
    expect(writer.healthy).toBe(false);
    now += 1_000;
    expect(writer.healthy).toBe(true);
  });

  it('is healthy as soon as the store takes writes again, while the spool is still being replayed', async () => {
    const { log, table } = await freshTable();
    const store = new ObservedStore(log);
    store.failuresLeft = Number.POSITIVE_INFINITY;
    const { writer, spool, logged } = await makeWriter(store, { writeAttempts: 1, replayChunk: 10, batchSize: 10 });
    for (let n = 0; n < 100; n++) writer.submit(event(n, 'outage'));
    await expect.poll(() => writer.healthy, { timeout: 10_000 }).toBe(false);
    await expect.poll(() => spool.size(), { timeout: 10_000 }).toBe(100);

    // The first replayed chunk is the store answering; the rest of the replay is held.
    store.holdAfter(1);
    store.failuresLeft = 0;
    await expect.poll(() => writer.healthy, { timeout: 10_000 }).toBe(true);
    expect(spool.size()).toBe(90);
    expect(logged.join('\n')).toContain('audit store answers again: new events go to it; 90 spooled events are being replayed');

    store.release();
    await expect.poll(() => writer.counters().pending, { timeout: 10_000 }).toBe(0);
    expect(logged.join('\n')).toContain('audit store back: 100 spooled events replayed');
    expect(writer.counters()).toMatchObject({ written: 100, dropped: 0 });
    await expectStoredOnce(
      table,
      Array.from({ length: 100 }, (_, n) => `outage-${n}`),
    );
  });
});
