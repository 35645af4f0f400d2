// SPDY/3.1 framing: every frame type round-trips through the writer and the parser, header
// blocks share one zlib context per direction, and the parser accepts any chunking.
import { describe, expect, it } from 'vitest';
import { spdyFrameBytes } from '../support/spdy-client.js';
import { HeaderCompressor, HeaderDecompressor, SPDY3_DICTIONARY, SpdyParser, type SpdyFrame } from '../../lib/spdy/index.js';

const FRAMES: SpdyFrame[] = [
  {
    type: 'SYN_STREAM',
    streamId: 1,
    associatedStreamId: 0,
    priority: 0,
    fin: false,
    unidirectional: false,
    headers: { streamtype: 'error' },
  },
  {
    type: 'SYN_STREAM',
    streamId: 3,
    associatedStreamId: 0,
    priority: 3,
    fin: true,
    unidirectional: false,
    headers: { streamtype: 'stdin' },
  },
  { type: 'SYN_REPLY', streamId: 1, fin: false, headers: {} },
  { type: 'DATA', streamId: 1, fin: false, data: Buffer.from('hello') },
  { type: 'DATA', streamId: 1, fin: true, data: Buffer.alloc(0) },
  { type: 'HEADERS', streamId: 3, fin: false, headers: { a: 'b', 'x-multi': 'one\0two' } },
  { type: 'RST_STREAM', streamId: 3, status: 5 },
  { type: 'SETTINGS', clearPersisted: false, settings: [{ id: 7, value: 1048576, flags: 0 }] },
  { type: 'PING', id: 1 },
  { type: 'GOAWAY', lastGoodStreamId: 3, status: 0 },
  { type: 'WINDOW_UPDATE', streamId: 0, delta: 983040 },
  { type: 'DATA', streamId: 5, fin: false, data: Buffer.alloc(70000, 7) },
];

/** Parses bytes fed in the given chunk sizes (cycled) and resolves with the frames. */
function parse(bytes: Buffer, expected: number, chunkSizes: number[] = [bytes.length]): Promise<SpdyFrame[]> {
  return new Promise((resolve, reject) => {
    const frames: SpdyFrame[] = [];
    const parser = new SpdyParser({
      onFrame: (frame) => {
        frames.push(frame);
        if (frames.length === expected) resolve(frames);
      },
      onError: reject,
    });
    for (let offset = 0, i = 0; offset < bytes.length; i++) {
      const size = Math.max(1, chunkSizes[i % chunkSizes.length]!);
      parser.push(bytes.subarray(offset, offset + size));
      offset += size;
    }
  });
}

describe('SPDY/3.1 framing', () => {
  it('has the 1,423-byte SPDY/3 dictionary', () => {
    expect(SPDY3_DICTIONARY.length).toBe(1423);
    expect(SPDY3_DICTIONARY.subarray(0, 11)).toEqual(Buffer.from('\0\0\0\x07options', 'latin1'));
    expect(SPDY3_DICTIONARY.subarray(-6).toString()).toBe('enq=0.');
  });

  it('round-trips every frame type, in order', async () => {
    const bytes = await spdyFrameBytes(FRAMES);
    expect(await parse(bytes, FRAMES.length)).toEqual(FRAMES);
  });

  it('parses the same frames whatever the chunk boundaries', async () => {
    const bytes = await spdyFrameBytes(FRAMES);
    for (const sizes of [[3, 7, 1], [8], [9, 4096], [13, 1, 1, 200, 65536]]) {
      expect(await parse(bytes, FRAMES.length, sizes)).toEqual(FRAMES);
    }
    // Byte by byte, without the 70 kB DATA frame that would make it slow and add nothing.
    const small = FRAMES.slice(0, -1);
    expect(await parse(await spdyFrameBytes(small), small.length, [1])).toEqual(small);
  });

  it('keeps one compression context per direction across header blocks', async () => {
    const headers = { streamtype: 'stdout', port: '8080', requestid: '0' };
    const compressor = new HeaderCompressor();
    const first = await compressor.compress(headers);
    const second = await compressor.compress(headers);
    // The second block refers back to the first one's bytes: much smaller than a fresh one.
    expect(second.length).toBeLessThan(first.length / 2);
    const decompressor = new HeaderDecompressor();
    expect(await decompressor.decompress(first)).toEqual(headers);
    expect(await decompressor.decompress(second)).toEqual(headers);
    // A fresh context cannot read the second block alone: the contexts are per session.
    await expect(new HeaderDecompressor().decompress(second)).rejects.toThrow(/zlib|header block/);
    compressor.close();
  });

  it('reports bytes that are not SPDY/3 once, and hands on nothing after them', async () => {
    const errors: Error[] = [];
    const frames: SpdyFrame[] = [];
    const parser = new SpdyParser({ onFrame: (f) => frames.push(f), onError: (e) => errors.push(e) });
    // A SPDY/2 PING: control bit set, version 2.
    parser.push(Buffer.from([0x80, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]));
    parser.push(await spdyFrameBytes([{ type: 'PING', id: 1 }]));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/SPDY version/);
    expect(frames).toEqual([]);
  });

  it('refuses a header block that inflates past the limit', async () => {
    const big = { cookie: 'x'.repeat(4096) };
    const block = await new HeaderCompressor().compress(big);
    await expect(new HeaderDecompressor(1024).decompress(block)).rejects.toThrow(/exceeds 1024 bytes/);
  });
});

describe('frame boundaries', () => {
  it('finds where each frame ends, whatever the chunking, without decompressing', async () => {
    const { FrameBoundaries } = await import('../../lib/spdy/index.js');
    const bytes = await spdyFrameBytes(FRAMES);
    // The true ends, from the frames' own lengths.
    const truth: number[] = [];
    for (let at = 0; at < bytes.length;) {
      at += 8 + (bytes.readUInt32BE(at + 4) & 0xffffff);
      truth.push(at);
    }
    for (const size of [1, 5, 8, 100, bytes.length]) {
      const boundaries = new FrameBoundaries();
      const found: number[] = [];
      for (let offset = 0; offset < bytes.length; offset += size) {
        found.push(...boundaries.push(bytes.subarray(offset, offset + size)).map((end) => offset + end));
        expect(boundaries.atBoundary).toBe(truth.includes(Math.min(offset + size, bytes.length)));
      }
      expect(found).toEqual(truth);
    }
  });
});
