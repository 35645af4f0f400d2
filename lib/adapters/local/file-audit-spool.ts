// Where audit events wait on local disk while the audit store cannot take them. Events are JSON
// lines in numbered segment files inside a directory only this account can enter; an append is
// synced before it resolves, so an event the writer counted as spooled survives a crash. A new
// process never appends to an old segment: a line torn by a crash stays the last of its file.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeportError } from '../../core/errors.js';
import type { AuditEvent, AuditSpool } from '../../core/ports.js';
import { ensurePrivateDirectory } from '../../platform/safe-file.js';

const { O_CREAT, O_EXCL, O_WRONLY, O_APPEND, O_NOFOLLOW } = constants;

const SEGMENT = /^segment-(\d{12})\.jsonl$/;
const segmentName = (index: number) => `segment-${String(index).padStart(12, '0')}.jsonl`;

export interface FileAuditSpoolOptions {
  /** Bytes on disk beyond which appends are refused (SpoolFullError); default 1 GiB. */
  maxBytes?: number;
  /**
   * Bytes kept free for events already on their way once hasRoom() turns false (the writer then
   * counts as unhealthy, and audit: strict refuses); default a tenth of maxBytes.
   */
  reserveBytes?: number;
  /** Events per segment file before a new one is started; default 1,000. */
  segmentEvents?: number;
  log: (message: string) => void;
}

/** The spool refused events: full, or the disk would not take them. The writer counts them dropped. */
export class SpoolRefusedError extends KubeportError {
  constructor(message: string, cause?: unknown) {
    super('internal', message, cause === undefined ? undefined : { cause });
    this.name = 'SpoolRefusedError';
  }
}

interface Segment {
  index: number;
  bytes: number;
  /** Lines in the file, a torn last one included until the file is read. */
  lines: number;
  /** Events already handed out and stored (done()), from the start of the file. */
  consumed: number;
}

export class FileAuditSpool implements AuditSpool {
  private readonly segments: Segment[];
  private writing: { segment: Segment; file: FileHandle } | undefined;
  private nextIndex: number;
  private totalBytes: number;
  private pendingEvents: number;
  /** Appends, peeks and removals run one at a time, in the order they were asked for. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    segments: Segment[],
    private readonly options: Required<FileAuditSpoolOptions>,
  ) {
    this.segments = segments;
    this.nextIndex = (segments.at(-1)?.index ?? 0) + 1;
    this.totalBytes = segments.reduce((sum, s) => sum + s.bytes, 0);
    this.pendingEvents = segments.reduce((sum, s) => sum + s.lines, 0);
  }

  /** Opens (or creates, mode 0700) the spool in `dir`, with what an earlier process left there. */
  static async open(dir: string, options: FileAuditSpoolOptions): Promise<FileAuditSpool> {
    ensurePrivateDirectory(dir, { followSymlink: false, narrow: false });
    const segments: Segment[] = [];
    for (const name of (await readdir(dir)).sort()) {
      const match = SEGMENT.exec(name);
      if (!match) continue;
      const path = join(dir, name);
      const stat = await lstat(path);
      if (!stat.isFile()) throw refusing(path, 'is not a plain file');
      checkOwner(path, stat);
      const content = await readFile(path);
      let lines = 0;
      for (const byte of content) if (byte === 0x0a) lines++;
      // A torn last line (no newline) is counted until its file is read, then skipped.
      if (content.length > 0 && content[content.length - 1] !== 0x0a) lines++;
      segments.push({ index: Number(match[1]), bytes: stat.size, lines, consumed: 0 });
    }
    const maxBytes = options.maxBytes ?? 1024 ** 3;
    return new FileAuditSpool(dir, segments, { maxBytes, reserveBytes: Math.floor(maxBytes / 10), segmentEvents: 1_000, ...options });
  }

  size(): number {
    return this.pendingEvents;
  }

  hasRoom(): boolean {
    return this.totalBytes + this.options.reserveBytes < this.options.maxBytes;
  }

  append(events: AuditEvent[]): Promise<void> {
    return this.serially(() => this.appendNow(events));
  }

  peek(max: number): Promise<{ events: AuditEvent[]; done(): Promise<void> } | undefined> {
    return this.serially(() => this.peekNow(max));
  }

  /** Closes the segment being written; what is spooled stays for the next process. */
  close(): Promise<void> {
    return this.serially(() => this.finishWriting());
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async appendNow(events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const bytes = Buffer.from(events.map((event) => `${JSON.stringify(event)}\n`).join(''), 'utf8');
    if (this.totalBytes + bytes.length > this.options.maxBytes) {
      throw new SpoolRefusedError(
        `audit spool ${this.dir} is full (${this.totalBytes} of ${this.options.maxBytes} bytes); ${events.length} events refused`,
      );
    }
    try {
      const writing = await this.segmentToWrite();
      for (let at = 0; at < bytes.length;) at += (await writing.file.write(bytes, at)).bytesWritten;
      await writing.file.sync();
      writing.segment.bytes += bytes.length;
      writing.segment.lines += events.length;
      this.totalBytes += bytes.length;
      this.pendingEvents += events.length;
      if (writing.segment.lines >= this.options.segmentEvents) await this.finishWriting();
    } catch (error) {
      if (error instanceof SpoolRefusedError) throw error;
      // The segment may now end with part of these lines: start a new one, so that only this
      // torn tail is skipped when it is read.
      await this.finishWriting().catch(() => undefined);
      throw new SpoolRefusedError(`audit spool ${this.dir} could not be written: ${String(error)}`, error);
    }
  }

  private async segmentToWrite(): Promise<{ segment: Segment; file: FileHandle }> {
    if (this.writing) return this.writing;
    const index = this.nextIndex++;
    const file = await open(join(this.dir, segmentName(index)), O_CREAT | O_EXCL | O_WRONLY | O_APPEND | O_NOFOLLOW, 0o600);
    const segment: Segment = { index, bytes: 0, lines: 0, consumed: 0 };
    this.segments.push(segment);
    this.writing = { segment, file };
    return this.writing;
  }

  private async finishWriting(): Promise<void> {
    const writing = this.writing;
    this.writing = undefined;
    await writing?.file.close();
  }

  private async peekNow(max: number): Promise<{ events: AuditEvent[]; done(): Promise<void> } | undefined> {
    for (;;) {
      const segment = this.segments[0];
      if (!segment) return undefined;
      // Appends go on in a new segment while this one is replayed.
      if (this.writing?.segment === segment) await this.finishWriting();
      const path = join(this.dir, segmentName(segment.index));
      const events = await this.readSegment(path, segment);
      const taken = events.slice(segment.consumed, segment.consumed + Math.max(1, max));
      if (taken.length === 0) {
        await this.removeSegment(segment);
        continue;
      }
      let released = false;
      return {
        events: taken,
        done: () =>
          this.serially(async () => {
            if (released) return;
            released = true;
            segment.consumed += taken.length;
            this.pendingEvents -= taken.length;
            // Partly replayed segments stay whole on disk: a restart replays their first events
            // again, which the store takes as the same events (idempotent by time and uid).
            if (segment.consumed >= segment.lines) await this.removeSegment(segment);
          }),
      };
    }
  }

  /** The events of a segment; lines a crash tore (or anything unreadable) are skipped with a log line. */
  private async readSegment(path: string, segment: Segment): Promise<AuditEvent[]> {
    const text = await readFile(path, 'utf8');
    const lines = text.split('\n');
    const complete = text.endsWith('\n') || text === '';
    const tail = lines.pop() ?? '';
    const events: AuditEvent[] = [];
    lines.forEach((line, number) => {
      const event = parseEvent(line);
      if (event) events.push(event);
      else this.options.log(`audit spool: skipping unreadable line ${number + 1} of ${path}`);
    });
    if (!complete) {
      this.options.log(
        `audit spool: skipping the torn last line of ${path} (${Buffer.byteLength(tail)} bytes, written when a process stopped mid-write)`,
      );
    }
    // Lines counted but not events (torn, unreadable) no longer count as pending; lines a failed
    // append wrote whole before it failed do.
    const difference = segment.lines - events.length;
    if (difference !== 0) {
      this.pendingEvents -= difference;
      segment.lines = events.length;
    }
    return events;
  }

  private async removeSegment(segment: Segment): Promise<void> {
    await unlink(join(this.dir, segmentName(segment.index))).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    this.segments.splice(this.segments.indexOf(segment), 1);
    this.totalBytes -= segment.bytes;
    this.pendingEvents -= segment.lines - segment.consumed;
  }
}

function parseEvent(line: string): AuditEvent | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    if (typeof value !== 'object' || value === null) return undefined;
    const event = value as AuditEvent;
    return typeof event.uid === 'string' && typeof event.time === 'string' ? event : undefined;
  } catch {
    return undefined;
  }
}

function checkOwner(path: string, stat: Stats): void {
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) throw refusing(path, `belongs to another account (uid ${stat.uid})`);
}

function refusing(path: string, problem: string): KubeportError {
  return new KubeportError('invalid_config', `refusing audit spool file ${path}: it ${problem}; remove it`);
}
