// SPDY/3 header blocks: a name/value list compressed with zlib against the SPDY/3 dictionary,
// where each direction of a session keeps ONE zlib context for its whole life (a block may
// refer back to bytes of earlier blocks). So the compressor and decompressor here are
// long-lived objects, one per direction, and blocks must go through them in frame order.
//
// Why zlib streams with Z_SYNC_FLUSH and a serial queue: Node's public zlib API has no
// synchronous call that keeps a context between calls (deflateSync/inflateSync start afresh
// each time), and a pure-JS zlib would be a dependency for a few hundred bytes per stream. A
// zlib stream keeps the context; Z_SYNC_FLUSH ends each block on a byte boundary, which is
// what SPDY requires; each call waits for the previous one, so outputs never interleave. The
// cost is that header blocks are asynchronous: the parser and writer keep frame order around
// them (ordered-queue.ts).
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { SpdyProtocolError, type SpdyHeaders } from './frames.js';

/** A decompressed header block larger than this ends the session (a zlib bomb is cheap to send). */
export const MAX_HEADER_BLOCK_BYTES = 1024 * 1024;

/** The uncompressed name/value block: 32-bit count, then 32-bit length + bytes for each name and value. */
export function encodeNameValueBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, value] of entries) {
    const nameBytes = Buffer.from(name.toLowerCase(), 'utf8');
    const valueBytes = Buffer.from(value, 'utf8');
    parts.push(u32(nameBytes.length), nameBytes, u32(valueBytes.length), valueBytes);
  }
  return Buffer.concat(parts);
}

export function decodeNameValueBlock(block: Buffer): SpdyHeaders {
  let offset = 0;
  const take = (): Buffer => {
    if (offset + 4 > block.length) throw new SpdyProtocolError('SPDY header block is truncated');
    const length = block.readUInt32BE(offset);
    offset += 4;
    if (offset + length > block.length) throw new SpdyProtocolError('SPDY header block is truncated');
    const bytes = block.subarray(offset, offset + length);
    offset += length;
    return bytes;
  };
  if (block.length < 4) throw new SpdyProtocolError('SPDY header block is truncated');
  const count = block.readUInt32BE(0);
  offset = 4;
  const headers: SpdyHeaders = Object.create(null);
  for (let i = 0; i < count; i++) {
    const name = take().toString('utf8');
    const value = take().toString('utf8');
    if (name === '' || name !== name.toLowerCase())
      throw new SpdyProtocolError(`SPDY header name ${JSON.stringify(name)} is empty or not lowercase`);
    headers[name] = name in headers ? `${headers[name]}\0${value}` : value;
  }
  return headers;
}

function u32(value: number): Buffer {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
}

/** One zlib context fed one block at a time; each block's output is everything up to its sync flush. */
class SerialZlib {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private failure: Error | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** Rejects the block in progress: a destroyed zlib stream never calls its flush back. */
  private rejectCurrent: ((error: Error) => void) | undefined;

  constructor(
    private readonly stream: zlib.Deflate | zlib.Inflate,
    private readonly limit: number,
  ) {
    stream.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      if (this.bytes > this.limit) this.fail(new SpdyProtocolError(`SPDY header block exceeds ${this.limit} bytes`));
      else this.chunks.push(chunk);
    });
    stream.on('error', (error) => this.fail(new SpdyProtocolError(`SPDY header block is not valid zlib: ${error.message}`)));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.stream.destroy();
    this.rejectCurrent?.(this.failure);
  }

  run(input: Buffer): Promise<Buffer> {
    const result = this.tail.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          this.rejectCurrent = reject;
          this.chunks = [];
          this.bytes = 0;
          this.stream.write(input);
          this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            this.rejectCurrent = undefined;
            if (this.failure) return reject(this.failure);
            resolve(Buffer.concat(this.chunks));
          });
        }),
    );
    this.tail = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.fail(new Error('SPDY header compression context closed'));
  }
}

/** Compresses the header blocks one side sends, in the order it sends them. */
export class HeaderCompressor {
  private readonly zlib = new SerialZlib(zlib.createDeflate({ dictionary: SPDY3_DICTIONARY }), Number.MAX_SAFE_INTEGER);

  compress(headers: SpdyHeaders): Promise<Buffer> {
    return this.zlib.run(encodeNameValueBlock(headers));
  }

  close(): void {
    this.zlib.close();
  }
}

/** Decompresses the header blocks one side receives, in the order they arrive. */
export class HeaderDecompressor {
  private readonly zlib: SerialZlib;

  constructor(limit = MAX_HEADER_BLOCK_BYTES) {
    this.zlib = new SerialZlib(zlib.createInflate({ dictionary: SPDY3_DICTIONARY }), limit);
  }

  async decompress(block: Buffer): Promise<SpdyHeaders> {
    return decodeNameValueBlock(await this.zlib.run(block));
  }

  close(): void {
    this.zlib.close();
  }
}
