// Where WebSocket messages begin and end in a byte stream the agent relays, found from frame
// headers alone: payloads are skipped, never copied or unmasked. The agent needs this only to
// put a frame of its own between two messages when it ends a stream (a Status, then Close).
// RFC 6455 §5.2: 2 header bytes, then 2 or 8 bytes of extended length, then 4 of mask key if masked.

const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;

export class WebSocketBoundaries {
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  private readonly header = Buffer.alloc(14);
  private headerBytes = 0;
  /** Inside a message sent in several frames: nothing else may go in before its last frame. */
  private fragmented = false;

  /** Between two messages: a frame written now cannot split one. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.headerBytes === 0 && !this.fragmented;
  }

  /**
   * Follows `chunk`; returns how many of its bytes were followed: all of them, or with
   * `stopAtBoundary` only those up to the first message boundary reached inside it.
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
      if (this.headerBytes < 2 || this.headerBytes < headerLength(this.header[1]!)) continue;
      this.startFrame();
      if (stopAtBoundary && this.atBoundary) return i;
    }
    return n;
  }

  private startFrame(): void {
    const first = this.header[0]!;
    const second = this.header[1]!;
    const fin = (first & 0x80) !== 0;
    const opcode = first & 0x0f;
    const short = second & 0x7f;
    this.remaining = short < 126 ? short : short === 126 ? this.header.readUInt16BE(2) : longLength(this.header);
    this.headerBytes = 0;
    // Control frames (opcode 8 and up) may come between the frames of a message and change nothing.
    // A data frame without FIN starts or continues a fragmented message; one with FIN ends it.
    if (opcode < OP_CLOSE) this.fragmented = !fin;
  }
}

/**
 * The 64-bit length (all 8 bytes). One of 2^53 or more cannot be followed exactly: the frame is
 * taken as endless, so no boundary is ever found and an ending closes the connection instead.
 */
function longLength(header: Buffer): number {
  const length = header.readBigUInt64BE(2);
  return length >= 2n ** 53n ? Infinity : Number(length);
}

/** Bytes in a frame's header, read from its second byte: 2, plus the extended length, plus the mask key. */
export function headerLength(second: number): number {
  const short = second & 0x7f;
  return 2 + (short === 126 ? 2 : short === 127 ? 8 : 0) + (second & 0x80 ? 4 : 0);
}

/** An unmasked frame (server to client) with FIN set. */
function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const header = n < 126 ? Buffer.alloc(2) : n < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode;
  if (n < 126) header[1] = n;
  else if (n < 65_536) {
    header[1] = 126;
    header.writeUInt16BE(n, 2);
  } else {
    header[1] = 127;
    header.writeUIntBE(n, 4, 6);
  }
  return Buffer.concat([header, payload]);
}

/** A binary message on a channel of the Kubernetes channel protocols (first payload byte = channel). */
export function channelFrame(channel: number, payload: Buffer): Buffer {
  return frame(OP_BINARY, Buffer.concat([Buffer.from([channel]), payload]));
}

/** Close with `code` and a reason cut to the 123 bytes a control frame allows, on a character boundary. */
export function closeFrame(code: number, reason = ''): Buffer {
  let text = Buffer.from(reason);
  if (text.length > 123) {
    let end = 123;
    // Back off continuation bytes (10xxxxxx) so no character is cut in two.
    while (end > 0 && (text[end]! & 0xc0) === 0x80) end--;
    text = text.subarray(0, end);
  }
  const payload = Buffer.alloc(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return frame(OP_CLOSE, payload);
}
