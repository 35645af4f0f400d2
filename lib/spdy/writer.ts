// Writes SPDY/3.1 frames for ONE direction of a session: header blocks go through that
// direction's one zlib context, and frames leave in the order they were written even though a
// header block takes a moment to compress.
import { dataFrameHeader, encodeFrame, hasHeaderBlock, type SpdyFrame } from './frames.js';
import { HeaderCompressor } from './header-block.js';
import { OrderedQueue } from './ordered-queue.js';

/** Below this size a DATA frame's header and payload are joined into one write. */
const JOIN_BELOW = 4096;

export class SpdyWriter {
  private readonly compressor = new HeaderCompressor();
  private readonly queue: OrderedQueue<Buffer[]>;
  private lastWriteAccepted = true;

  /**
   * @param output receives the encoded bytes in order; returns false when the transport wants
   *   the writer to wait (as Writable.write does)
   * @param onError called if compression fails (the session can no longer send headers)
   */
  constructor(
    private readonly output: (bytes: Buffer) => boolean,
    onError: (error: unknown) => void,
  ) {
    this.queue = new OrderedQueue((buffers) => {
      for (const bytes of buffers) this.lastWriteAccepted = this.output(bytes);
    }, onError);
  }

  /**
   * Queues a frame. Returns false, like Writable.write, when the caller should wait before
   * writing more: the transport's last write asked to wait, or frames are queued behind a
   * header block (whenFlushed, then the transport's 'drain').
   */
  write(frame: SpdyFrame): boolean {
    if (hasHeaderBlock(frame)) {
      this.queue.push(this.compressor.compress(frame.headers).then((block) => [encodeFrame(frame, block)]));
      return false;
    }
    if (frame.type === 'DATA') {
      const header = dataFrameHeader(frame.streamId, frame.data.length, frame.fin);
      this.queue.push(frame.data.length < JOIN_BELOW ? [Buffer.concat([header, frame.data])] : [header, frame.data]);
    } else {
      this.queue.push([encodeFrame(frame)]);
    }
    return !this.queue.busy && this.lastWriteAccepted;
  }

  /** Calls back once every frame written so far has reached the output. */
  whenFlushed(callback: () => void): void {
    this.queue.whenIdle(callback);
  }

  close(): void {
    this.compressor.close();
  }
}
