// An interactive session as asciicast v2, stored in parts while it runs: a part goes out every
// few seconds (or sooner when output is heavy), so an agent that dies mid-session loses seconds,
// not the session. It is fed by the session tap, after the relay already passed the bytes on:
// storing is asynchronous (a few parts at once), retried, and never waits the stream. Memory is
// bounded, per session and agent-wide: while the store cannot keep up, output over the bound is
// left out and a marker says how much. A recording's size is bounded too: past it, recording stops.
//
// Output is written as asciicast text (JSON strings): `tsh play --format=text` gives back the bytes
// exactly only where they are UTF-8; an invalid sequence becomes U+FFFD, as asciicast allows no
// other way. `kubectl exec -i` without -t is not recorded at all: its command, exit code and byte
// counts are in its exec event.
import { StringDecoder } from 'node:string_decoder';
import { type CastHeader, castEventLine, castHeaderLine, resizeData } from '../lib/core/asciicast.js';
import type { Clock, RecordingStore } from '../lib/core/ports.js';
import { RecordingBudget } from './recording-budget.js';
import type { SessionActivity } from './session-tap.js';

export interface RecorderOptions {
  /** A part is stored at least this often while there is something new. */
  partIntervalMs: number;
  /** A part is cut as soon as this many bytes are waiting. */
  partMaxBytes: number;
  /** Time the header waits for the client's first resize (kubectl sends one at once) before taking 80x24. */
  resizeWaitMs: number;
  /** Recording bytes held (written and not yet stored) before output is left out. */
  maxHeldBytes: number;
  /** Parts being stored at once: one at a time, a store round trip would bound the recording's throughput. */
  partsInFlight: number;
  /** Largest recording of one session; past it, recording stops with a marker. */
  maxRecordingBytes: number;
}

export const defaultRecorderOptions: RecorderOptions = {
  partIntervalMs: 5_000,
  partMaxBytes: 256 * 1024,
  resizeWaitMs: 1_000,
  maxHeldBytes: 8 * 1024 * 1024,
  partsInFlight: 4,
  maxRecordingBytes: 512 * 1024 * 1024,
};

export interface RecorderDeps {
  store: RecordingStore;
  clock: Clock;
  log: (message: string) => void;
  options?: Partial<RecorderOptions>;
  /** Bytes held by all the agent's recorders; none: this recorder's own bound only. */
  budget?: RecordingBudget;
}

/** What the header says about the session, besides its size. */
export type RecordingHeader = Omit<CastHeader, 'version' | 'width' | 'height'>;

const DEFAULT_SIZE = { width: 80, height: 24 };
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;

export class SessionRecorder implements SessionActivity {
  private readonly options: RecorderOptions;
  private readonly startedAt: number;
  private size: { width: number; height: number } | undefined;
  /** Event lines written since the last part was cut. */
  private lines: string[] = [];
  private lineBytes = 0;
  private headerWritten = false;
  /** Parts cut and not being stored, in order (a part that failed goes back here). */
  private readonly pending: { index: number; body: Buffer }[] = [];
  private inFlight = 0;
  /** Bytes of parts cut and not yet stored (pending and in flight). */
  private queuedBytes = 0;
  private nextIndex = 0;
  private finished = false;
  /** The finish deadline passed: what is still out no longer counts. */
  private abandoned = false;
  private readonly budget: RecordingBudget;
  /** Bytes of every line written so far: the recording's size. */
  private recordedBytes = 0;
  /** The recording reached its size limit: nothing more is written but the final marker. */
  private capped = false;
  // StringDecoder rather than TextDecoder: both keep a character cut between chunks whole, and
  // StringDecoder is an order of magnitude faster on Node 20 (output is on the stream's path).
  private readonly decoders = new Map<string, StringDecoder>();
  /** Bytes left out since the last marker. */
  private droppedBytes = 0;
  /** Bytes left out in all. */
  private leftOut = 0;
  private readonly timer: NodeJS.Timeout;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;
  private drained: (() => void) | undefined;
  /** Parts stored; the recording is complete once the last one is. */
  stored = 0;

  /** Bytes of parts cut and not yet stored. */
  get unstoredBytes(): number {
    return this.queuedBytes;
  }

  /** Bytes of output (and input, resizes) left out of the recording so far. */
  get gapBytes(): number {
    return this.leftOut;
  }

  constructor(
    private readonly deps: RecorderDeps,
    readonly sessionId: string,
    private readonly header: RecordingHeader,
    private readonly recordInput: boolean,
  ) {
    this.options = { ...defaultRecorderOptions, ...deps.options };
    this.budget = deps.budget ?? new RecordingBudget(Number.POSITIVE_INFINITY);
    this.startedAt = deps.clock.now().getTime();
    this.timer = setInterval(() => this.cut(), this.options.partIntervalMs);
    this.timer.unref();
  }

  output(data: Buffer, stream: 'stdout' | 'stderr'): void {
    this.text('o', stream, data);
  }

  input(data: Buffer): void {
    if (this.recordInput) this.text('i', 'stdin', data);
  }

  resize(width: number, height: number): void {
    if (this.finished) return;
    // The first resize, if it comes in time, is the terminal's size: the header's.
    if (!this.size && this.elapsedMs() <= this.options.resizeWaitMs) {
      this.size = { width, height };
      return;
    }
    this.event('r', resizeData(width, height));
  }

  /** The exit status goes into the exec event, not the recording. */
  exit(): void {}

  /**
   * Ends the recording: the last part is cut and every part stored, retried until `deadlineMs`
   * from now. Resolves true when the whole recording is stored.
   */
  async finish(deadlineMs: number): Promise<boolean> {
    if (!this.finished) {
      for (const [key, decoder] of this.decoders) {
        const rest = decoder.end();
        if (rest) this.event(key === 'stdin' ? 'i' : 'o', rest);
      }
      if (this.droppedBytes > 0) this.push(this.gapMarker());
      this.cut(true);
      this.finished = true;
      clearInterval(this.timer);
    }
    if (this.pending.length === 0 && this.inFlight === 0) return true;
    let timeout: NodeJS.Timeout | undefined;
    const stored = await Promise.race([
      new Promise<boolean>((resolve) => (this.drained = () => resolve(true))),
      new Promise<boolean>((resolve) => (timeout = setTimeout(() => resolve(false), deadlineMs))),
    ]);
    clearTimeout(timeout);
    if (!stored && !this.abandoned) {
      clearTimeout(this.retryTimer);
      this.abandoned = true;
      this.deps.log(`recording of session ${this.sessionId}: ${this.pending.length + this.inFlight} part(s) could not be stored in time`);
      // Given up: the agent-wide bound no longer counts these bytes (a put still out settles unseen).
      this.budget.release(this.queuedBytes);
      this.queuedBytes = 0;
      this.pending.length = 0;
    }
    return stored;
  }

  private elapsedMs(): number {
    return this.deps.clock.now().getTime() - this.startedAt;
  }

  /** Output or input as text: one decoder per stream keeps a character split between messages whole. */
  private text(type: 'o' | 'i', stream: string, data: Buffer): void {
    if (this.finished) return;
    if (this.full()) {
      // Left out before any decoding, so a store that cannot keep up costs the agent nothing more;
      // the stream's decoder starts afresh after the gap.
      this.leaveOut(data.length);
      this.decoders.delete(stream);
      return;
    }
    let decoder = this.decoders.get(stream);
    if (!decoder) this.decoders.set(stream, (decoder = new StringDecoder('utf8')));
    const text = decoder.write(data);
    if (text) this.event(type, text);
  }

  private event(type: 'o' | 'i' | 'r', data: string): void {
    if (this.finished) return;
    if (this.full()) {
      this.leaveOut(Buffer.byteLength(data));
      return;
    }
    const seconds = this.elapsedMs() / 1000;
    if (this.droppedBytes > 0) this.push(this.gapMarker());
    const line = castEventLine(seconds, type, data);
    if (this.recordedBytes + Buffer.byteLength(line) > this.options.maxRecordingBytes) {
      this.capped = true;
      this.push(
        castEventLine(
          seconds,
          'm',
          `recording stopped: it reached its limit of ${this.options.maxRecordingBytes} bytes; output from here is left out`,
        ),
      );
      this.leaveOut(Buffer.byteLength(data));
      return;
    }
    this.push(line);
  }

  /** Nothing more can be written now: the recording is at its size limit, or as much is held as the bounds allow. */
  private full(): boolean {
    return this.capped || this.queuedBytes + this.lineBytes > this.options.maxHeldBytes || this.budget.full;
  }

  private leaveOut(bytes: number): void {
    if (bytes === 0) return;
    if (this.leftOut === 0)
      this.deps.log(
        `recording of session ${this.sessionId}: output is being left out of the recording (${this.capped ? `it reached its limit of ${this.options.maxRecordingBytes} bytes` : 'the recording store is not keeping up'}); session.end gives the bytes left out as recording_gap_bytes`,
      );
    this.droppedBytes += bytes;
    this.leftOut += bytes;
  }

  /** A marker where output was left out, saying how much. */
  private gapMarker(): string {
    const why = this.capped
      ? `after the recording reached its limit of ${this.options.maxRecordingBytes} bytes`
      : 'while the store was slow';
    const line = castEventLine(this.elapsedMs() / 1000, 'm', `recording gap: ${this.droppedBytes} bytes left out ${why}`);
    this.droppedBytes = 0;
    return line;
  }

  /** Every line goes through here, markers included (they may pass the size limit: they are small and few). */
  private push(line: string): void {
    const bytes = Buffer.byteLength(line);
    this.lines.push(line);
    this.lineBytes += bytes;
    this.recordedBytes += bytes;
    this.budget.hold(bytes);
    if (this.lineBytes >= this.options.partMaxBytes) this.cut();
  }

  /** Cuts what was written into the next part; the first part starts with the header. */
  private cut(last = false): void {
    if (this.finished) return;
    if (!this.headerWritten) {
      // Nothing yet and still within the wait for the terminal's size: the header can wait too.
      if (!last && this.lines.length === 0 && !this.size && this.elapsedMs() <= this.options.resizeWaitMs) return;
      const size = this.size ?? DEFAULT_SIZE;
      this.size = size;
      const headerLine = castHeaderLine({ version: 2, width: size.width, height: size.height, ...this.header });
      this.lines.unshift(headerLine);
      this.budget.hold(Buffer.byteLength(headerLine));
      this.headerWritten = true;
    } else if (this.lines.length === 0) return;
    const body = Buffer.from(this.lines.join(''));
    this.lines = [];
    this.lineBytes = 0;
    this.pending.push({ index: this.nextIndex++, body });
    this.queuedBytes += body.length;
    this.upload();
  }

  /**
   * Stores the pending parts, up to partsInFlight at once (the part keys are numbered, so order is
   * kept on read); a failure is retried with backoff, and while a retry waits nothing new starts.
   */
  private upload(): void {
    while (!this.retryTimer && !this.abandoned && this.inFlight < this.options.partsInFlight && this.pending.length > 0) {
      const part = this.pending.shift()!;
      this.inFlight++;
      this.deps.store.putPart(this.sessionId, part.index, part.body).then(
        () => {
          this.inFlight--;
          if (this.abandoned) return;
          this.queuedBytes -= part.body.length;
          this.budget.release(part.body.length);
          this.stored++;
          this.retryMs = RETRY_FIRST_MS;
          this.upload();
        },
        (error: unknown) => {
          this.inFlight--;
          if (this.abandoned) return;
          const at = this.pending.findIndex((waiting) => waiting.index > part.index);
          this.pending.splice(at === -1 ? this.pending.length : at, 0, part);
          if (this.retryTimer) return;
          if (this.retryMs === RETRY_FIRST_MS)
            this.deps.log(
              `recording of session ${this.sessionId}: part ${part.index} not stored (${error instanceof Error ? error.message : String(error)}); retrying`,
            );
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.upload();
          }, this.retryMs);
          this.retryTimer.unref();
          this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
        },
      );
    }
    if (this.pending.length === 0 && this.inFlight === 0) this.drained?.();
  }
}
