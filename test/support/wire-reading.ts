// Reads what a raw client received from the agent: the WebSocket frames after a 101, or the
// chunks of a chunked body, so tests can check exactly how a stream ended.

export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** The bytes after the HTTP head (latin1 text as OpenConnection.received gives it). */
export function afterHead(received: string): Buffer {
  const end = received.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no complete HTTP head in: ${received.slice(0, 200)}`);
  return Buffer.from(received.slice(end + 4), 'latin1');
}

/** Unmasked server frames, in order; a trailing partial frame is left out. */
export function serverFrames(bytes: Buffer): ServerFrame[] {
  const frames: ServerFrame[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const short = bytes[at + 1]! & 0x7f;
    const headerLength = 2 + (short === 126 ? 2 : short === 127 ? 8 : 0);
    if (at + headerLength > bytes.length) break;
    const length = short < 126 ? short : short === 126 ? bytes.readUInt16BE(at + 2) : Number(bytes.readBigUInt64BE(at + 2));
    if (at + headerLength + length > bytes.length) break;
    frames.push({
      fin: (bytes[at]! & 0x80) !== 0,
      opcode: bytes[at]! & 0x0f,
      payload: bytes.subarray(at + headerLength, at + headerLength + length),
    });
    at += headerLength + length;
  }
  return frames;
}

/** A chunked body decoded; `complete` when it ended with the last (empty) chunk. */
export function dechunk(bytes: Buffer): { body: string; complete: boolean } {
  let body = '';
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd === -1) return { body, complete: false };
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (size === 0) return { body, complete: bytes.subarray(lineEnd, lineEnd + 4).toString() === '\r\n\r\n' };
    if (lineEnd + 2 + size > bytes.length) return { body, complete: false };
    body += bytes.subarray(lineEnd + 2, lineEnd + 2 + size).toString();
    at = lineEnd + 2 + size + 2;
  }
}
