// Where frames end in one direction's byte stream, found synchronously from the 8-byte frame
// headers alone (no decompression). A relay that must add a frame of its own (say, a Status on
// an exec's error stream before it ends the session) splits the bytes it forwards at these
// offsets, so its frame never lands inside another one.
import { FRAME_HEADER_BYTES } from './frames.js';

export class FrameBoundaries {
  /** Bytes still to come of the frame in progress (its header included). */
  private remaining = 0;
  /** Header bytes of the next frame seen so far, when a chunk ended inside one. */
  private partialHeader: number[] = [];

  /** True when everything pushed so far ends on a frame boundary. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.partialHeader.length === 0;
  }

  /** Feeds the next chunk; returns the offsets in it just after each frame that ends in it. */
  push(chunk: Buffer): number[] {
    const ends: number[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const used = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= used;
        offset += used;
        if (this.remaining === 0) ends.push(offset);
        continue;
      }
      // Reading a frame header, maybe across chunks: the length is its last 3 bytes.
      this.partialHeader.push(chunk[offset++]!);
      if (this.partialHeader.length < FRAME_HEADER_BYTES) continue;
      const [, , , , , a, b, c] = this.partialHeader as [number, number, number, number, number, number, number, number];
      this.partialHeader = [];
      this.remaining = (a << 16) | (b << 8) | c;
      if (this.remaining === 0) ends.push(offset);
    }
    return ends;
  }
}
