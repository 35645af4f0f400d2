// The client end of kubectl's port-forward WebSocket tunnel, for tests below kubectl: the SPDY
// byte stream written to it leaves as masked binary messages of at most `messageBytes` each
// (kubectl's boundaries are arbitrary, so a test can make them small), and the binary messages
// that arrive are read back as one byte stream. Written here because the ws client refuses the
// subprotocol SPDY/3.1+portforward.k8s.io ('/' is not a token character).
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';

const BINARY = 0x2;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

export interface TunnelEnd extends Duplex {
  /** Resolves with the close code the server sent (1005 when it sent none), or 1006 if the connection just ended. */
  closeCode: Promise<number>;
}

function frame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const head = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (length < 126) head[1] = 0x80 | length;
  else if (length < 65536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(length, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(length), 2);
  }
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i % 4]!;
  return Buffer.concat([head, mask, masked]);
}

/** Wraps the socket of an accepted upgrade (and the bytes that came with the 101). */
export function tunnelEnd(socket: Duplex, head: Buffer, messageBytes = 16 * 1024): TunnelEnd {
  let pending = head;
  let resolveClose!: (code: number) => void;
  const closeCode = new Promise<number>((resolve) => (resolveClose = resolve));
  const end = new Duplex({
    read: () => socket.resume(),
    write(chunk: Buffer, _encoding, callback) {
      const frames: Buffer[] = [];
      for (let at = 0; at < chunk.length; at += messageBytes) frames.push(frame(BINARY, chunk.subarray(at, at + messageBytes)));
      socket.write(Buffer.concat(frames), callback);
    },
    final(callback) {
      const code = Buffer.alloc(2);
      code.writeUInt16BE(1000);
      socket.write(frame(CLOSE, code), callback);
    },
  }) as TunnelEnd;
  end.closeCode = closeCode;

  const parse = () => {
    for (;;) {
      if (pending.length < 2) return;
      const opcode = pending[0]! & 0x0f;
      let length = pending[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (pending.length < 4) return;
        length = pending.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (pending.length < 10) return;
        length = Number(pending.readBigUInt64BE(2));
        offset = 10;
      }
      if (pending.length < offset + length) return;
      const payload = pending.subarray(offset, offset + length);
      pending = pending.subarray(offset + length);
      if (opcode === BINARY || opcode === 0) {
        if (!end.push(payload)) socket.pause();
      } else if (opcode === PING) socket.write(frame(PONG, payload));
      else if (opcode === CLOSE) {
        resolveClose(payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
        end.push(null);
      }
    }
  };
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    parse();
  });
  socket.on('close', () => {
    resolveClose(1006);
    end.push(null);
  });
  socket.on('error', () => socket.destroy());
  parse();
  return end;
}
