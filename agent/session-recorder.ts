// An interactive session as asciicast v2, stored in parts while it runs: a part goes out every
// few seconds (or sooner when output is heavy), so an agent that dies mid-session loses seconds,
// not the session. It is fed by the session tap, after the relay already passed the bytes on:
// storing is asynchronous, retried, and never waits the stream. Memory is bounded: while the
// store cannot keep up, output over the cap is left out and a marker says how much.
import { type CastHeader, castEventLine, castHeaderLine, resizeData } from '../lib/core/asciicast.js';
import type { Clock, RecordingStore } from '../lib/core/ports.js';
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
}

export const defaultRecorderOptions: RecorderOptions = {
  partIntervalMs: 5_000,
  partMaxBytes: 256 * 1024,
  resizeWaitMs: 1_000,
  maxHeldBytes: 8 * 1024 * 1024,
};

export interface RecorderDeps {
  store: RecordingStore;
  clock: Clock;
  log: (message: string) => void;
  options?: Partial<RecorderOptions>;
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
  /** Parts cut and not yet stored, in order. */
  private readonly queue: { index: number; body: Buffer }[] = [];
  private queuedBytes = 0;
  private nextIndex = 0;
  private uploading = false;
  private finished = false;
  private readonly decoders = new Map<string, TextDecoder>();
  private droppedBytes = 0;
  private readonly timer: NodeJS.Timeout;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;
  private drained: (() => void) | undefined;
  /** Parts stored; the recording is complete once the last one is. */
  stored = 0;

  constructor(
    private readonly deps: RecorderDeps,
    readonly sessionId: string,
    private readonly header: RecordingHeader,
    private readonly recordInput: boolean,
  ) {
    this.options = { ...defaultRecorderOptions, ...deps.options };
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
        const rest = decoder.decode();
        if (rest) this.event(key === 'stdin' ? 'i' : 'o', rest);
      }
      this.cut(true);
      this.finished = true;
      clearInterval(this.timer);
    }
    if (this.queue.length === 0) return true;
    let timeout: NodeJS.Timeout | undefined;
    const stored = await Promise.race([
      new Promise<boolean>((resolve) => (this.drained = () => resolve(true))),
      new Promise<boolean>((resolve) => (timeout = setTimeout(() => resolve(false), deadlineMs))),
    ]);
    clearTimeout(timeout);
    if (!stored) {
      clearTimeout(this.retryTimer);
      this.deps.log(`recording of session ${this.sessionId}: ${this.queue.length} part(s) could not be stored in time`);
    }
    return stored;
  }

  private elapsedMs(): number {
    return this.deps.clock.now().getTime() - this.startedAt;
  }

  /** Output or input as text: one decoder per stream keeps a character split between messages whole. */
  private text(type: 'o' | 'i', stream: string, data: Buffer): void {
    if (this.finished) return;
    let decoder = this.decoders.get(stream);
    if (!decoder) this.decoders.set(stream, (decoder = new TextDecoder('utf-8')));
    const text = decoder.decode(data, { stream: true });
    if (text) this.event(type, text);
  }

  private event(type: 'o' | 'i' | 'r', data: string): void {
    if (this.finished) return;
    if (this.queuedBytes + this.lineBytes > this.options.maxHeldBytes) {
      this.droppedBytes += Buffer.byteLength(data);
      return;
    }
    const seconds = this.elapsedMs() / 1000;
    if (this.droppedBytes > 0) {
      this.push(castEventLine(seconds, 'm', `recording gap: ${this.droppedBytes} bytes left out while the store was slow`));
      this.droppedBytes = 0;
    }
    this.push(castEventLine(seconds, type, data));
  }

  private push(line: string): void {
    this.lines.push(line);
    this.lineBytes += Buffer.byteLength(line);
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
      this.lines.unshift(castHeaderLine({ version: 2, width: size.width, height: size.height, ...this.header }));
      this.headerWritten = true;
    } else if (this.lines.length === 0) return;
    const body = Buffer.from(this.lines.join(''));
    this.lines = [];
    this.lineBytes = 0;
    this.queue.push({ index: this.nextIndex++, body });
    this.queuedBytes += body.length;
    this.upload();
  }

  /** Stores the queued parts one at a time, in order; a failure is retried with backoff. */
  private upload(): void {
    if (this.uploading || this.retryTimer) return;
    const part = this.queue[0];
    if (!part) {
      this.drained?.();
      return;
    }
    this.uploading = true;
    this.deps.store.putPart(this.sessionId, part.index, part.body).then(
      () => {
        this.uploading = false;
        this.queue.shift();
        this.queuedBytes -= part.body.length;
        this.stored++;
        this.retryMs = RETRY_FIRST_MS;
        this.upload();
      },
      (error: unknown) => {
        this.uploading = false;
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
}
