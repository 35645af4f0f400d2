// The agent's audit sink: events are taken at once (submit never waits, never throws), written to
// the audit store in batches, and kept on local disk while the store cannot take them, so that no
// answered request goes unrecorded. The store's writes are idempotent by (time, uid): a batch
// written again (a retry, a replay of the spool after a crash) is stored once.
import type { AuditArchive, AuditCounters, AuditEvent, AuditLog, AuditSink, AuditSpool, Clock, Random } from '../core/ports.js';

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface BufferedAuditWriterDeps {
  store: AuditLog;
  spool: AuditSpool;
  /** Where the spool keeps events, named in log lines. */
  spoolLocation: string;
  /** The long-term archive; events stored are appended to it in larger objects. */
  archive?: AuditArchive;
  /** Where archive objects wait when the archive cannot take them for long (see archiveMaxPending). */
  archiveSpool?: AuditSpool;
  clock: Clock;
  random: Random;
  timers: Timers;
  log: (message: string) => void;
}

export interface BufferedAuditWriterOptions {
  /** Events per store write (DynamoDB's BatchWriteItem takes 25). */
  batchSize: number;
  /** Store writes at once. */
  maxInFlight: number;
  /** How long a batch that is not full waits for more events. */
  flushIntervalMs: number;
  /** Events in memory (waiting or being written) beyond which new ones go to the spool. */
  maxPending: number;
  /** Events waiting in memory for the spool beyond which they are dropped (a disk far slower than the load). */
  maxSpoolBacklog: number;
  /** Attempts of one batch before the store counts as unreachable. */
  writeAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** First wait before probing an unreachable store; it doubles up to retryMaxMs. */
  probeIntervalMs: number;
  /** Events read from the spool per replay round. */
  replayChunk: number;
  archiveIntervalMs: number;
  /** Events per archive object. */
  archiveMaxEvents: number;
  /** Events waiting for the archive beyond which the oldest objects go to archiveSpool. */
  archiveMaxPending: number;
  countersLogIntervalMs: number;
  /** How long after events were dropped the writer stays unhealthy (audit: strict refuses meanwhile). */
  dropQuarantineMs: number;
}

export const AUDIT_WRITER_DEFAULTS: BufferedAuditWriterOptions = {
  batchSize: 25,
  maxInFlight: 4,
  flushIntervalMs: 200,
  maxPending: 10_000,
  maxSpoolBacklog: 100_000,
  writeAttempts: 3,
  retryBaseMs: 100,
  retryMaxMs: 5_000,
  probeIntervalMs: 500,
  replayChunk: 100,
  archiveIntervalMs: 60_000,
  archiveMaxEvents: 10_000,
  archiveMaxPending: 50_000,
  countersLogIntervalMs: 60_000,
  dropQuarantineMs: 60_000,
};

const CLOSE_GRACE_MS = 2_000;

export interface ArchiveCounters {
  archived: number;
  /** Events waiting for the archive, in memory or in its spool. */
  pending: number;
  /** Events the archive never got: its backlog was full and there is no archive spool, or that spool refused them. */
  dropped: number;
}

interface Sleeper {
  handle: unknown;
  wake: () => void;
}

export class BufferedAuditWriter implements AuditSink {
  private readonly options: BufferedAuditWriterOptions;
  /** The store takes writes: new events go to memory and on to the store, not to the spool. */
  private up = true;
  /** Since the store stopped answering, until the spool holds nothing of that time (for the log lines only). */
  private outage = false;
  /** When events were last dropped (ms since the epoch). */
  private lastDropAt: number | undefined;
  private closed = false;
  private flushing = 0;
  private readonly queue: AuditEvent[] = [];
  private readonly inFlight = new Set<AuditEvent[]>();
  /** Batches handed to the spool at a flush deadline while still being written: their outcome no longer counts. */
  private readonly abandoned = new WeakSet<AuditEvent[]>();
  private readonly toSpool: AuditEvent[] = [];
  private spoolWriter: Promise<void> | undefined;
  private recovery: Promise<void> | undefined;
  private flushTimer: unknown;
  private readonly sleepers = new Set<Sleeper>();
  private readonly settledWaiters = new Set<() => void>();
  private readonly counts = { written: 0, spooled: 0, dropped: 0 };
  private replayedSinceDown = 0;
  private lastLogged = '';
  private readonly archiveState = { buffer: [] as AuditEvent[], backlog: [] as AuditEvent[][], archived: 0, dropped: 0 };
  private archiving: Promise<void> | undefined;
  private readonly archiveSpoolAppends = new Set<Promise<void>>();
  private readonly periodic: unknown[] = [];

  constructor(
    private readonly deps: BufferedAuditWriterDeps,
    options: Partial<BufferedAuditWriterOptions> = {},
  ) {
    this.options = { ...AUDIT_WRITER_DEFAULTS, ...options };
    for (const [name, value] of Object.entries(this.options)) {
      if (!Number.isFinite(value) || value <= 0) throw new Error(`audit writer option ${name} must be a positive number, got ${value}`);
    }
    this.every(this.options.countersLogIntervalMs, () => this.logCountersIfChanged());
    if (deps.archive) this.every(this.options.archiveIntervalMs, () => this.cutArchiveObject());
    // Events an earlier process spooled are replayed as soon as the store answers.
    if (deps.spool.size() > 0) this.startRecovery();
    if (deps.archiveSpool && deps.archiveSpool.size() > 0) this.startArchiving();
  }

  /**
   * Every event submitted now will be kept: the store takes writes, the spool takes appends with
   * room to spare, and nothing was dropped lately. What the spool holds is durable and being
   * replayed, so a spool that is not empty is no reason to refuse.
   */
  get healthy(): boolean {
    return this.up && this.spoolTakesAppends() && !this.droppedRecently();
  }

  private spoolTakesAppends(): boolean {
    // Half the backlog bound is kept for events already on their way when this turns false.
    const backlogRoom = this.toSpool.length < this.options.maxSpoolBacklog / 2;
    // A refused append is a drop: droppedRecently() covers a spool that refuses for any reason (a
    // broken disk included) without keeping strict users out forever once it takes appends again.
    return backlogRoom && (this.deps.spool.hasRoom?.() ?? true);
  }

  private droppedRecently(): boolean {
    return this.lastDropAt !== undefined && this.deps.clock.now().getTime() - this.lastDropAt < this.options.dropQuarantineMs;
  }

  private dropped(count: number, why: string): void {
    this.counts.dropped += count;
    this.lastDropAt = this.deps.clock.now().getTime();
    this.deps.log(`audit events lost: ${why}`);
  }

  submit(event: AuditEvent): void {
    if (this.closed || !this.up || this.inMemory() >= this.options.maxPending) {
      this.spoolLater([event]);
      return;
    }
    this.queue.push(event);
    this.pump();
  }

  counters(): AuditCounters {
    return { ...this.counts, pending: this.inMemory() + this.toSpool.length + this.deps.spool.size() };
  }

  archiveCounters(): ArchiveCounters {
    const { buffer, backlog, archived, dropped } = this.archiveState;
    const waiting = buffer.length + backlog.reduce((sum, batch) => sum + batch.length, 0);
    return { archived, dropped, pending: waiting + (this.deps.archiveSpool?.size() ?? 0) };
  }

  /** Writes what is in memory to the store; what is not written within the deadline is spooled. */
  async flush(deadlineMs: number): Promise<void> {
    this.flushing++;
    const deadline = this.sleep(deadlineMs);
    try {
      this.pump();
      await Promise.race([this.allWritten(), deadline.promise]);
      const left = this.queue.splice(0);
      for (const batch of this.inFlight) {
        this.abandoned.add(batch);
        left.push(...batch);
      }
      this.spoolLater(left);
      await this.spoolIdle();
      await this.flushArchive(deadline.promise);
    } finally {
      deadline.cancel();
      this.flushing--;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush(0);
    this.closed = true;
    for (const handle of this.periodic) this.deps.timers.clearTimeout(handle);
    if (this.flushTimer !== undefined) this.deps.timers.clearTimeout(this.flushTimer);
    for (const sleeper of [...this.sleepers]) sleeper.wake();
    // A replay or archive append under way ends on its own; what it did not finish stays spooled.
    const grace = this.sleep(CLOSE_GRACE_MS);
    await Promise.race([Promise.all([this.recovery, this.archiving]), grace.promise]);
    grace.cancel();
    // An archive object whose append failed while closing waits on disk like the rest.
    for (const batch of this.archiveState.backlog.splice(0)) this.spoolForArchive(batch);
    await Promise.all(this.archiveSpoolAppends);
    this.deps.log(`audit at shutdown: ${this.describeCounters()}`);
  }

  private inMemory(): number {
    let writing = 0;
    for (const batch of this.inFlight) writing += batch.length;
    return this.queue.length + writing;
  }

  /** Starts store writes while there is room: full batches at once, the rest when the flush timer fires. */
  private pump(partialToo = false): void {
    const { batchSize, maxInFlight, flushIntervalMs } = this.options;
    while (this.up && this.inFlight.size < maxInFlight && this.queue.length > 0) {
      if (this.queue.length < batchSize && !partialToo && this.flushing === 0) break;
      void this.writeBatch(this.queue.splice(0, batchSize));
    }
    if (this.queue.length > 0 && this.flushTimer === undefined && !this.closed) {
      this.flushTimer = this.deps.timers.setTimeout(() => {
        this.flushTimer = undefined;
        this.pump(true);
      }, flushIntervalMs);
    }
  }

  private async writeBatch(batch: AuditEvent[]): Promise<void> {
    this.inFlight.add(batch);
    try {
      await this.writeWithRetries(batch);
      if (!this.abandoned.has(batch)) {
        this.counts.written += batch.length;
        this.archiveLater(batch);
      }
    } catch (error) {
      if (!this.abandoned.has(batch)) {
        this.storeDown(error);
        this.spoolLater(batch);
      }
    } finally {
      this.inFlight.delete(batch);
      this.pump();
      this.notifySettled();
    }
  }

  private async writeWithRetries(batch: AuditEvent[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.store.write(batch);
        return;
      } catch (error) {
        // Once the store counts as down, batches go to the spool at once instead of waiting their turn.
        if (attempt >= this.options.writeAttempts || !this.up || this.closed) throw error;
        await this.sleep(this.backoff(attempt)).promise;
      }
    }
  }

  /** Exponential, with jitter so that writers that failed together do not retry together. */
  private backoff(attempt: number, base = this.options.retryBaseMs): number {
    const ceiling = Math.min(this.options.retryMaxMs, base * 2 ** (attempt - 1));
    const [byte = 0] = this.deps.random.bytes(1);
    return Math.round(ceiling * (0.5 + byte / 512));
  }

  private storeDown(error: unknown): void {
    if (!this.up) return;
    this.up = false;
    if (!this.outage) {
      this.outage = true;
      this.replayedSinceDown = 0;
      this.deps.log(
        `audit store unreachable: events are spooled to ${this.deps.spoolLocation}; they are replayed when it answers (${reasonOf(error)})`,
      );
    }
    this.spoolLater(this.queue.splice(0));
    this.startRecovery();
  }

  /** New events go to the store again, while the spool is replayed beside them. */
  private storeAnswers(): void {
    if (this.up) return;
    this.up = true;
    if (this.outage) {
      this.deps.log(`audit store answers again: new events go to it; ${this.deps.spool.size()} spooled events are being replayed`);
    }
    this.pump();
  }

  private spoolLater(events: AuditEvent[]): void {
    if (events.length === 0) return;
    if (this.toSpool.length + events.length > this.options.maxSpoolBacklog) {
      this.dropped(events.length, `${events.length} events found the spool ${this.toSpool.length} events behind`);
      return;
    }
    this.toSpool.push(...events);
    this.spoolWriter ??= this.writeToSpool();
  }

  /** One append at a time, each taking everything that waits: one sync covers many events under load. */
  private async writeToSpool(): Promise<void> {
    while (this.toSpool.length > 0) {
      const events = this.toSpool.splice(0, 1_000);
      try {
        await this.deps.spool.append(events);
        this.counts.spooled += events.length;
      } catch (error) {
        this.dropped(events.length, `the spool refused ${events.length} events (${reasonOf(error)})`);
      }
    }
    this.spoolWriter = undefined;
    if (this.deps.spool.size() > 0) this.startRecovery();
  }

  private async spoolIdle(): Promise<void> {
    while (this.spoolWriter) await this.spoolWriter;
  }

  private startRecovery(): void {
    if (this.closed || this.recovery) return;
    this.recovery = this.recover().finally(() => {
      this.recovery = undefined;
    });
  }

  /**
   * Replays the spool oldest first; each replay is also the probe of a store that is down. Once
   * the store answers, new events go to it directly (under a load the replay could otherwise never
   * catch up with), and the writer is healthy again at once: spooled events are durable.
   */
  private async recover(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      if (!this.up) await this.sleep(this.backoff(failures + 1, this.options.probeIntervalMs)).promise;
      if (this.closed) return;
      await this.spoolIdle();
      const chunk = this.deps.spool.size() > 0 ? await this.deps.spool.peek(this.options.replayChunk) : undefined;
      try {
        if (chunk) {
          await this.writeAll(chunk.events);
          // Counted before done(): pending never reads 0 while the written count still lags.
          this.counts.written += chunk.events.length;
          await chunk.done();
          this.replayedSinceDown += chunk.events.length;
          this.archiveLater(chunk.events);
        } else if (!this.up) {
          // Nothing to replay (the spool refused it): a small query says whether the store answers.
          const now = this.deps.clock.now();
          await this.deps.store.search({ from: now, to: now, limit: 1 });
        }
        failures = 0;
        this.storeAnswers();
      } catch (error) {
        this.storeDown(error);
        failures++;
        continue;
      }
      if (this.deps.spool.size() === 0 && this.toSpool.length === 0 && !this.spoolWriter) {
        if (this.outage) {
          this.outage = false;
          this.deps.log(`audit store back: ${this.replayedSinceDown} spooled events replayed`);
        }
        return;
      }
    }
  }

  private async writeAll(events: AuditEvent[]): Promise<void> {
    const batches: AuditEvent[][] = [];
    for (let at = 0; at < events.length; at += this.options.batchSize) batches.push(events.slice(at, at + this.options.batchSize));
    await Promise.all(batches.map((batch) => this.deps.store.write(batch)));
  }

  private allWritten(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.queue.length > 0 || this.inFlight.size > 0) return;
        this.settledWaiters.delete(check);
        resolve();
      };
      this.settledWaiters.add(check);
      check();
    });
  }

  private notifySettled(): void {
    for (const waiter of [...this.settledWaiters]) waiter();
  }

  private archiveLater(events: AuditEvent[]): void {
    if (!this.deps.archive) return;
    this.archiveState.buffer.push(...events);
    if (this.archiveState.buffer.length >= this.options.archiveMaxEvents) this.cutArchiveObject();
  }

  private cutArchiveObject(): void {
    const { buffer, backlog } = this.archiveState;
    while (buffer.length > 0) backlog.push(buffer.splice(0, this.options.archiveMaxEvents));
    this.boundArchiveBacklog();
    this.startArchiving();
  }

  /** Keeps the archive's memory bounded: past archiveMaxPending, the oldest objects wait on disk. */
  private boundArchiveBacklog(): void {
    const { backlog } = this.archiveState;
    let waiting = backlog.reduce((sum, batch) => sum + batch.length, 0);
    // The first object may be being appended right now; it stays.
    while (waiting > this.options.archiveMaxPending && backlog.length > 1) {
      const [oldest] = backlog.splice(1, 1);
      waiting -= oldest!.length;
      this.spoolForArchive(oldest!);
    }
  }

  private spoolForArchive(events: AuditEvent[]): void {
    const spool = this.deps.archiveSpool;
    if (!spool) {
      this.archiveState.dropped += events.length;
      this.deps.log(`audit archive: ${events.length} events not archived (the archive is unreachable and its backlog is full)`);
      return;
    }
    const appending = spool.append(events).catch((error: unknown) => {
      this.archiveState.dropped += events.length;
      this.deps.log(`audit archive: ${events.length} events not archived: its spool refused them (${reasonOf(error)})`);
    });
    this.archiveSpoolAppends.add(appending);
    void appending.finally(() => this.archiveSpoolAppends.delete(appending));
  }

  private startArchiving(): void {
    if (this.closed || this.archiving || !this.deps.archive) return;
    this.archiving = this.archiveAll().finally(() => {
      this.archiving = undefined;
    });
  }

  /** Appends the backlog, then what the archive spool holds; a failure waits and tries again, never touching the store's path. */
  private async archiveAll(): Promise<void> {
    const archive = this.deps.archive!;
    const { backlog } = this.archiveState;
    let failures = 0;
    while (!this.closed) {
      const chunk = backlog.length === 0 ? await this.deps.archiveSpool?.peek(this.options.archiveMaxEvents) : undefined;
      const events = backlog[0] ?? chunk?.events;
      if (!events) return;
      try {
        await archive.append(events);
        if (chunk) await chunk.done();
        else backlog.shift();
        this.archiveState.archived += events.length;
        if (failures > 0) this.deps.log(`audit archive back after ${failures} failed appends`);
        failures = 0;
      } catch (error) {
        failures++;
        if (failures === 1) this.deps.log(`audit archive append failed, retrying (${reasonOf(error)})`);
        await this.sleep(this.backoff(failures)).promise;
      }
    }
  }

  private async flushArchive(deadline: Promise<void>): Promise<void> {
    if (!this.deps.archive) return;
    this.cutArchiveObject();
    const drained = (async () => {
      while (this.archiving && this.archiveState.backlog.length > 0) await this.archiving;
    })();
    await Promise.race([drained, deadline]);
    // The object being appended right now stays in memory until that append ends; the rest waits on disk.
    const { backlog } = this.archiveState;
    const rest = backlog.splice(this.archiving ? 1 : 0);
    for (const batch of rest) this.spoolForArchive(batch);
    await Promise.all(this.archiveSpoolAppends);
  }

  private every(intervalMs: number, run: () => void): void {
    const slot = this.periodic.length;
    const schedule = () => {
      this.periodic[slot] = this.deps.timers.setTimeout(() => {
        run();
        if (!this.closed) schedule();
      }, intervalMs);
    };
    schedule();
  }

  private describeCounters(): string {
    const { written, spooled, dropped, pending } = this.counters();
    const archive = this.deps.archive
      ? `; archived ${this.archiveState.archived}, archive pending ${this.archiveCounters().pending}, archive dropped ${this.archiveState.dropped}`
      : '';
    return `written ${written}, spooled ${spooled}, dropped ${dropped}, pending ${pending}${archive}`;
  }

  private logCountersIfChanged(): void {
    const line = this.describeCounters();
    if (line === this.lastLogged) return;
    this.lastLogged = line;
    this.deps.log(`audit: ${line}`);
  }

  /** A wait that close() ends early. */
  private sleep(ms: number): { promise: Promise<void>; cancel(): void } {
    let sleeper!: Sleeper;
    const promise = new Promise<void>((resolve) => {
      sleeper = {
        handle: this.deps.timers.setTimeout(() => sleeper.wake(), ms),
        wake: () => {
          this.deps.timers.clearTimeout(sleeper.handle);
          this.sleepers.delete(sleeper);
          resolve();
        },
      };
    });
    this.sleepers.add(sleeper);
    return { promise, cancel: () => sleeper.wake() };
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
