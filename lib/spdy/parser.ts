// An incremental SPDY/3.1 parser: fed the bytes of ONE direction of a session in chunks of any
// size, it hands on whole frames, in order, with their header blocks decompressed by that
// direction's one zlib context. It is not a party to the session (it sends nothing and keeps no
// stream state), so the same class serves the stand-in's server session and an observer that
// records both directions with two parsers, one per direction.
import {
  FRAME_HEADER_BYTES,
  SPDY_VERSION,
  SpdyProtocolError,
  decodeControlFrame,
  headerBlockOffset,
  readFrameHeader,
  type FrameHeader,
  type SpdyFrame,
} from './frames.js';
import { HeaderDecompressor, MAX_HEADER_BLOCK_BYTES } from './header-block.js';
import { OrderedQueue } from './ordered-queue.js';

export interface SpdyParserOptions {
  /** Called once per frame, in the order the frames were sent. */
  onFrame: (frame: SpdyFrame) => void;
  /** Called once when the bytes are not SPDY/3 (or a header block is broken); nothing follows. */
  onError: (error: Error) => void;
  /** Largest decompressed header block accepted. */
  maxHeaderBlockBytes?: number;
}

export class SpdyParser {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private header: FrameHeader | undefined;
  private failed = false;
  private readonly decompressor: HeaderDecompressor;
  private readonly queue: OrderedQueue<SpdyFrame | undefined>;

  constructor(private readonly options: SpdyParserOptions) {
    this.decompressor = new HeaderDecompressor(options.maxHeaderBlockBytes ?? MAX_HEADER_BLOCK_BYTES);
    this.queue = new OrderedQueue(
      (frame) => {
        if (frame && !this.failed) options.onFrame(frame);
      },
      (error) => this.fail(error),
    );
  }

  /** Feeds the next bytes of the direction; frames complete in them are handed on. */
  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      this.parse();
    } catch (error) {
      this.fail(error);
    }
  }

  /** Calls back once every frame in the bytes pushed so far was handed on (header blocks inflate asynchronously). */
  whenIdle(callback: () => void): void {
    if (this.failed) callback();
    else this.queue.whenIdle(callback);
  }

  /** Frees the zlib context; call when the direction has ended. */
  close(): void {
    this.decompressor.close();
  }

  private parse(): void {
    for (;;) {
      if (!this.header) {
        if (this.buffered < FRAME_HEADER_BYTES) return;
        const header = readFrameHeader(this.take(FRAME_HEADER_BYTES));
        if (header.control && header.version !== SPDY_VERSION)
          throw new SpdyProtocolError(`SPDY version ${header.version} is not supported; this session speaks SPDY/3.1`);
        this.header = header;
      }
      if (this.buffered < this.header.length) return;
      const header = this.header;
      this.header = undefined;
      this.frame(header, this.take(header.length));
      if (this.failed) return;
    }
  }

  private frame(header: FrameHeader, payload: Buffer): void {
    if (!header.control) {
      this.queue.push({ type: 'DATA', streamId: header.streamId, fin: (header.flags & 1) !== 0, data: payload });
      return;
    }
    const blockAt = headerBlockOffset(header.type);
    if (blockAt < 0 || payload.length < blockAt) {
      this.queue.push(decodeControlFrame(header, payload));
      return;
    }
    const block = payload.subarray(blockAt);
    this.queue.push(this.decompressor.decompress(block).then((headers) => decodeControlFrame(header, payload, headers)));
  }

  /** Takes n buffered bytes, copying only when they span chunks. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }

  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.chunks.length = 0;
    this.decompressor.close();
    this.options.onError(error instanceof Error ? error : new SpdyProtocolError(String(error)));
  }
}
