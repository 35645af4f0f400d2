// One SPDY stream as a Node Duplex: what the peer sends on it is readable, what is written to it
// leaves as DATA frames, end() sends the FIN, reset() an RST_STREAM. Being a Duplex, it pipes
// with backpressure: a write completes when the connection has taken the bytes (and, where the
// peer does flow control, when its window allows).
import { Duplex } from 'node:stream';
import { MAX_FRAME_PAYLOAD, RstStatus, type SpdyHeaders } from './frames.js';

/** What a stream needs from its session. */
export interface StreamOwner {
  /** Sends one DATA frame; false when the connection asked to wait. */
  sendData(streamId: number, data: Buffer, fin: boolean): boolean;
  sendReset(streamId: number, status: number): void;
  /** Calls back once the connection has drained (or has closed). */
  whenDrained(callback: () => void): void;
  /** Bytes the peer lets this stream send now (Infinity when its window is not enforced). */
  sendAllowance(stream: SpdyStream): number;
  /** The application consumed `bytes` of this stream's received data: the window can reopen. */
  consumed(stream: SpdyStream, bytes: number): void;
  forget(stream: SpdyStream): void;
}

export class SpdyStream extends Duplex {
  /** The peer's send window for this stream, kept up by the session. */
  sendWindow: number;
  /** Set when the peer reset the stream (RST_STREAM status). */
  resetStatus: number | undefined;
  private localFinished = false;
  private remoteFinished = false;
  private resetSent = false;
  /** Received bytes pushed while the readable buffer was full: counted as consumed on the next read. */
  private unconsumed = 0;
  private windowWaiter: (() => void) | undefined;

  constructor(
    readonly id: number,
    /** The SYN_STREAM's headers (kubectl's streamType, port, requestID, …). */
    readonly headers: SpdyHeaders,
    private readonly owner: StreamOwner,
    initialSendWindow: number,
  ) {
    super({ allowHalfOpen: true });
    this.sendWindow = initialSendWindow;
    this.on('close', () => owner.forget(this));
  }

  /** Ends the stream at once with RST_STREAM (default CANCEL); nothing more is sent or received. */
  reset(status: number = RstStatus.CANCEL): void {
    if (!this.destroyed && !this.resetSent && this.resetStatus === undefined) {
      this.resetSent = true;
      this.owner.sendReset(this.id, status);
    }
    this.destroy();
  }

  /** @internal the session hands on a DATA frame's payload. */
  receive(data: Buffer, fin: boolean): void {
    if (this.remoteFinished || this.destroyed) return;
    if (data.length > 0) {
      if (this.push(data)) this.owner.consumed(this, data.length);
      else this.unconsumed += data.length;
    }
    if (fin) this.receiveFin();
  }

  /** @internal the peer half-closed the stream. */
  receiveFin(): void {
    if (this.remoteFinished) return;
    this.remoteFinished = true;
    this.push(null);
  }

  /** @internal the peer reset the stream. */
  receiveReset(status: number): void {
    this.resetStatus = status;
    this.emit('reset', status);
    this.destroy();
  }

  /** @internal the peer's window grew (WINDOW_UPDATE or SETTINGS). */
  windowGrew(): void {
    const waiter = this.windowWaiter;
    this.windowWaiter = undefined;
    waiter?.();
  }

  override _read(): void {
    if (this.unconsumed > 0) {
      const bytes = this.unconsumed;
      this.unconsumed = 0;
      this.owner.consumed(this, bytes);
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.sendChunk(chunk, callback);
  }

  private sendChunk(chunk: Buffer, callback: (error?: Error | null) => void): void {
    if (this.destroyed) return callback(new Error(`SPDY stream ${this.id} is closed`));
    const allowance = Math.min(this.owner.sendAllowance(this), MAX_FRAME_PAYLOAD);
    if (allowance <= 0) {
      this.windowWaiter = () => this.sendChunk(chunk, callback);
      return;
    }
    const part = chunk.length > allowance ? chunk.subarray(0, allowance) : chunk;
    const rest = chunk.length > allowance ? chunk.subarray(allowance) : undefined;
    const accepted = this.owner.sendData(this.id, part, false);
    const next = () => (rest ? this.sendChunk(rest, callback) : callback());
    if (accepted) next();
    else this.owner.whenDrained(next);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.destroyed && this.resetStatus === undefined) this.owner.sendData(this.id, Buffer.alloc(0), true);
    this.localFinished = true;
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A stream dropped before both sides finished is cancelled, so the peer stops waiting on it.
    const finished = this.localFinished && this.remoteFinished;
    if (!finished && !this.resetSent && this.resetStatus === undefined) {
      this.resetSent = true;
      this.owner.sendReset(this.id, RstStatus.CANCEL);
    }
    this.windowWaiter = undefined;
    callback(error);
  }
}
