// The body of a long response (watch, followed log, streamed proxy answer) on its way to the
// client: each chunk written on as it comes, the source held while the client is slow. It stands
// between the upstream client and the response so the agent can end the body itself: a JSON
// watch gets an ERROR event with the Status after the last whole event, then the body's proper
// end; other bodies just end. (Handed the response directly, the upstream client would destroy
// it on abort, which kubectl reports as an unexpected EOF.)
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';

const NEWLINE = 0x0a;
/** Time an ended watch may take to finish the event it is in before the response is cut. */
const EVENT_WAIT_MS = 2_000;

export class StreamResponse extends Writable {
  /** Events are JSON lines: the body is between two events when its last byte was a newline. */
  private readonly watchJson: boolean;
  private atEventBoundary = true;
  private finalBytes: Buffer | undefined;
  private finished = false;

  constructor(
    private readonly res: ServerResponse,
    contentType: string,
    isWatch: boolean,
    /** Stops the upstream side once the agent has ended the body. */
    private readonly stopUpstream: () => void,
  ) {
    super();
    this.watchJson = isWatch && /^application\/json\b/i.test(contentType);
    res.on('drain', () => this.emit('relay-drain'));
    // The upstream client destroys this stream with an error when it is stopped; that is no news.
    this.on('error', () => undefined);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.finished) return callback();
    if (this.finalBytes !== undefined) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline === -1) {
        this.res.write(chunk);
        return callback();
      }
      this.res.write(chunk.subarray(0, newline + 1));
      this.finish(true);
      return callback();
    }
    if (this.watchJson && chunk.length > 0) this.atEventBoundary = chunk[chunk.length - 1] === NEWLINE;
    if (this.res.write(chunk)) callback();
    else this.once('relay-drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.finished) {
      this.finished = true;
      this.res.end();
    }
    callback();
  }

  /**
   * Ends the body on the agent's own account: a watch gets `watchEvent` after its current event
   * (the body is cut if that event does not finish in time); other bodies end where they are.
   * The caller stops the upstream side.
   */
  endWith(watchEvent: Buffer): void {
    if (this.finished || this.finalBytes !== undefined) return;
    if (!this.watchJson) {
      this.finish(false);
      return;
    }
    this.finalBytes = watchEvent;
    if (this.atEventBoundary) this.finish(true);
    else setTimeout(() => this.finish(false, true), EVENT_WAIT_MS).unref();
  }

  private finish(withEvent: boolean, cut = false): void {
    if (this.finished) return;
    this.finished = true;
    this.stopUpstream();
    if (cut) this.res.destroy();
    else if (withEvent) this.res.end(this.finalBytes);
    else this.res.end();
  }
}
