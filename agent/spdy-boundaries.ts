// Where SPDY/3.1 frames begin and end in a byte stream the agent relays, from the 8-byte frame
// headers alone (payloads skipped, header blocks never inflated), and which streams the client
// opened (the stream id is the first word of a SYN_STREAM's payload, before its compressed
// headers). Enough to end a SPDY exec with a Status on its error stream, then GOAWAY.
import { FRAME_HEADER_BYTES, FrameType, GoAwayStatus, dataFrameHeader, encodeFrame } from '../lib/spdy/index.js';

/** A SYN_STREAM's header is read with the stream id that follows it. */
const SYN_STREAM_PREFIX = FRAME_HEADER_BYTES + 4;

export class SpdyBoundaries {
  private remaining = 0;
  private readonly header = Buffer.alloc(SYN_STREAM_PREFIX);
  private headerBytes = 0;
  /** The first stream the client opened (kubectl opens the error stream first), and the last. */
  firstClientStream = 0;
  lastClientStream = 0;

  get atBoundary(): boolean {
    return this.remaining === 0 && this.headerBytes === 0;
  }

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
}

/** Protocols of kubectl's remote commands whose error stream carries a Status in JSON; older ones carry text. */
const STATUS_PROTOCOLS = new Set(['v4.channel.k8s.io', 'v5.channel.k8s.io']);

/**
 * The last frames of a SPDY connection the agent ends: for exec and attach, the Status (or, for
 * protocols before v4, the message) on the error stream with FIN, so kubectl prints it; then
 * GOAWAY, which tells the client no more streams will be served.
 */
export function spdyEnding(
  client: SpdyBoundaries,
  remoteCommand: boolean,
  protocol: string,
  status: { body: string; message: string },
): Buffer {
  const goAway = encodeFrame({ type: 'GOAWAY', lastGoodStreamId: client.lastClientStream, status: GoAwayStatus.OK });
  if (!remoteCommand || client.firstClientStream === 0) return goAway;
  const payload = Buffer.from(STATUS_PROTOCOLS.has(protocol) ? status.body : status.message);
  return Buffer.concat([dataFrameHeader(client.firstClientStream, payload.length, true), payload, goAway]);
}
