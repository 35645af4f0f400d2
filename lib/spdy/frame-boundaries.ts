// Where frames begin and end in one direction's byte stream, found synchronously from the 8-byte
// frame headers alone: payloads are skipped, header blocks never inflated. A relay that must add
// a frame of its own (the agent's Status on an exec's error stream before GOAWAY) forwards up to a
// boundary, so its frame never lands inside another one. The stream id of each SYN_STREAM (the
// first word of its payload, before the compressed headers) is read too: the agent needs the
// first and last stream the client opened.
import { FRAME_HEADER_BYTES, FrameType } from './frames.js';

/** A SYN_STREAM's header is read with the stream id that follows it. */
const SYN_STREAM_PREFIX = FRAME_HEADER_BYTES + 4;

export class FrameBoundaries {
  /** Bytes still to come of the frame in progress. */
  private remaining = 0;
  /** Header bytes of the next frame seen so far, when a chunk ended inside one. */
  private readonly header = Buffer.alloc(SYN_STREAM_PREFIX);
  private headerBytes = 0;
  /** The first stream opened by the side this follows (kubectl opens exec's error stream first), and the last. */
  firstClientStream = 0;
  lastClientStream = 0;

  /** True when everything followed so far ends on a frame boundary. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.headerBytes === 0;
  }

  /**
   * Follows `chunk`; returns how many of its bytes were followed: all of them, or with
   * `stopAtBoundary` only those up to the first frame boundary reached inside it.
   */
  scan(chunk: Buffer, stopAtBoundary = false): number {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i);
        this.remaining -= take;
        i += take;
        if (stopAtBoundary && this.atBoundary) return i;
        continue;
      }
      this.header[this.headerBytes++] = chunk[i++]!;
      if (this.headerBytes < FRAME_HEADER_BYTES) continue;
      const length = this.header.readUIntBE(5, 3);
      const synStream = (this.header[0]! & 0x80) !== 0 && this.header.readUInt16BE(2) === FrameType.SYN_STREAM && length >= 4;
      if (synStream && this.headerBytes < SYN_STREAM_PREFIX) continue;
      if (synStream) {
        const streamId = this.header.readUInt32BE(FRAME_HEADER_BYTES) & 0x7fffffff;
        if (this.firstClientStream === 0) this.firstClientStream = streamId;
        this.lastClientStream = Math.max(this.lastClientStream, streamId);
      }
      this.remaining = length - (this.headerBytes - FRAME_HEADER_BYTES);
      this.headerBytes = 0;
      if (stopAtBoundary && this.atBoundary) return i;
    }
    return n;
  }

  /** Feeds the next chunk; returns the offsets in it just after each frame that ends in it. */
  push(chunk: Buffer): number[] {
    const ends: number[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      offset += this.scan(chunk.subarray(offset), true);
      if (this.atBoundary) ends.push(offset);
    }
    return ends;
  }
}
