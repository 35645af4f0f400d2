// The two directions of an upgraded connection, piped as they are (each chunk written on as it
// arrives, the reader paused while the writer is full), with one difference from stream.pipe:
// the direction toward the client is followed frame by frame (headers only), so the agent can
// end the connection between two messages with words of its own (a Status, a Close) instead of
// cutting a frame in half.
import type { Duplex } from 'node:stream';

/** Follows a protocol's frames in a byte stream; see WebSocketBoundaries. */
export interface Boundaries {
  readonly atBoundary: boolean;
  scan(chunk: Buffer, stopAtBoundary?: boolean): number;
}

/** Time a stream being ended may take to reach the end of the frame it is in. */
const BOUNDARY_WAIT_MS = 2_000;
/**
 * Bytes relayed toward the client once the ending started: a frame that does not finish within
 * them (a server that declares a huge one and floods) is cut by closing, without the final bytes.
 */
const ENDING_MAX_BYTES = 1024 * 1024;
/** Time the client has to answer a Close before its connection is dropped. */
const CLOSE_GRACE_MS = 2_000;

export class UpgradeRelay {
  /** Bytes to write at the next boundary, then end with; set once ending starts. */
  private finalBytes: Buffer | undefined;
  private ended = false;
  /** Bytes relayed toward the client since the ending started. */
  private endingBytes = 0;

  constructor(
    private readonly upstream: Duplex,
    private readonly client: Duplex,
    /** Server-to-client frames; undefined for protocols the agent does not follow (ended by closing). */
    private readonly toClient: Boundaries | undefined,
    /** Client-to-server frames, when the ending needs to know what the client opened (SPDY streams). */
    private readonly toUpstream?: Boundaries,
  ) {}

  /** Starts relaying; `upstreamHead` and `clientHead` are bytes read past the HTTP headers on either side. */
  start(upstreamHead: Buffer, clientHead: Buffer): void {
    if (upstreamHead.length > 0) this.fromUpstream(upstreamHead);
    if (clientHead.length > 0) this.fromClient(clientHead);
    this.upstream.on('data', (chunk: Buffer) => this.fromUpstream(chunk));
    this.client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    this.client.on('drain', () => !this.ended && this.upstream.resume());
    this.upstream.on('drain', () => !this.ended && this.client.resume());
    // Half-closes pass through, as with pipe: stdin's end reaches the server, the server's end the client.
    this.upstream.on('end', () => this.upstreamGone());
    this.upstream.on('close', () => this.upstreamGone());
    this.client.on('end', () => !this.ended && this.upstream.end());
  }

  /** The server ended: what it sent is delivered, then the client's side ends (and is dropped if it lingers). */
  private upstreamGone(): void {
    if (this.ended) return;
    this.ended = true;
    this.closeClient(undefined);
  }

  /**
   * Ends the connection: the frame toward the client in progress is finished, then `bytes` go out
   * and the client's side is ended. Without boundaries (or when the frame does not finish in
   * time), the client's side is simply ended. Returns at once; `onDone` runs when both are gone.
   */
  endWith(bytes: Buffer | undefined): void {
    if (this.finalBytes !== undefined || this.ended) return;
    this.finalBytes = bytes ?? Buffer.alloc(0);
    if (!this.toClient || this.toClient.atBoundary || !bytes) {
      this.finish(true);
      return;
    }
    // The frame in progress must keep coming, but no faster than the client reads: the agent
    // never holds more than a write buffer of it.
    if (!this.client.writableNeedDrain) this.upstream.resume();
    setTimeout(() => this.finish(false), BOUNDARY_WAIT_MS).unref();
  }

  private fromUpstream(chunk: Buffer): void {
    if (this.ended) return;
    if (this.finalBytes !== undefined && this.toClient) {
      const upTo = this.toClient.scan(chunk, true);
      this.endingBytes += upTo;
      if (this.endingBytes > ENDING_MAX_BYTES) {
        this.finish(false);
        return;
      }
      const writable = this.client.write(upTo === chunk.length ? chunk : chunk.subarray(0, upTo));
      if (this.toClient.atBoundary) this.finish(true);
      else if (!writable) this.upstream.pause();
      return;
    }
    this.toClient?.scan(chunk);
    if (!this.client.write(chunk)) this.upstream.pause();
  }

  private fromClient(chunk: Buffer): void {
    // Once the ending started (a lock, a drain), nothing more the client sends reaches the server.
    if (this.ended || this.finalBytes !== undefined) return;
    this.toUpstream?.scan(chunk);
    if (!this.upstream.write(chunk)) this.client.pause();
  }

  /** Writes the final bytes (when at a boundary) and ends the client's side; drops the upstream. */
  private finish(atBoundary: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.upstream.destroy();
    this.closeClient(atBoundary && this.finalBytes!.length > 0 ? this.finalBytes : undefined);
  }

  private closeClient(last: Buffer | undefined): void {
    if (this.client.destroyed) return;
    if (last) this.client.end(last);
    else this.client.end();
    // Read (and drop) whatever the client still sends, such as its answering Close, so it can finish.
    this.client.resume();
    setTimeout(() => this.client.destroy(), CLOSE_GRACE_MS).unref();
  }
}
