// The upgrade relay ends a WebSocket connection between two messages, never inside one: a frame
// half sent when the agent ends the stream is finished first, a fragmented message is finished
// (control frames between its parts included), and nothing after the boundary reaches the client.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameBoundaries } from '../../lib/spdy/index.js';
import { UpgradeRelay } from '../../agent/upgrade-relay.js';
import { dataFrameHeader, encodeFrame } from '../../lib/spdy/index.js';
import { WebSocketBoundaries, closeFrame } from '../../agent/websocket-frames.js';
import { serverFrames } from '../support/wire-reading.js';

/** A server frame with FIN and opcode as given and a 3-byte length header past 125 bytes. */
const frame = (opcode: number, payload: Buffer, fin = true) => {
  const header =
    payload.length < 126 ? Buffer.from([0, payload.length]) : Buffer.from([0, 126, payload.length >> 8, payload.length & 0xff]);
  header[0] = (fin ? 0x80 : 0) | opcode;
  return Buffer.concat([header, payload]);
};

/** Two connected TCP sockets on loopback. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const dialed = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const pair: [net.Socket, net.Socket] = [await accepted, dialed];
  server.close();
  return pair;
}

describe('WebSocketBoundaries', () => {
  it('finds the boundaries between messages fed one byte at a time, masked frames and long lengths included', () => {
    const masked = Buffer.from([0x82, 0x80 | 3, 1, 2, 3, 4, 9, 9, 9]);
    const stream = Buffer.concat([
      frame(2, Buffer.alloc(300, 1)),
      masked,
      frame(2, Buffer.from('ab'), false),
      frame(9, Buffer.from('ping')),
      frame(0, Buffer.from('cd')),
    ]);
    const boundaries = new WebSocketBoundaries();
    const at: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      boundaries.scan(stream.subarray(i, i + 1));
      if (boundaries.atBoundary) at.push(i + 1);
    }
    const first = 304;
    const second = first + masked.length;
    expect(at).toEqual([first, second, stream.length]);
  });

  it('reads all 8 bytes of a 64-bit length, and takes one of 2^53 or more as a frame that never ends', () => {
    // 2^48 + 5: read from its low 6 bytes only, it was a 5-byte frame, over after 5 bytes.
    const huge = new WebSocketBoundaries();
    huge.scan(Buffer.concat([Buffer.from([0x82, 127, 0, 1, 0, 0, 0, 0, 0, 5]), Buffer.alloc(5)]));
    expect(huge.atBoundary).toBe(false);
    const endless = new WebSocketBoundaries();
    endless.scan(Buffer.from([0x82, 127, 0, 0x20, 0, 0, 0, 0, 0, 0]));
    endless.scan(Buffer.alloc(1 << 20));
    expect(endless.atBoundary).toBe(false);
    const exact = new WebSocketBoundaries();
    exact.scan(Buffer.concat([Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]), Buffer.alloc(65_536)]));
    expect(exact.atBoundary).toBe(true);
  });
});

describe('FrameBoundaries (SPDY), as the agent follows the client', () => {
  it('finds frame boundaries fed one byte at a time and the streams the client opened, from frame headers alone', () => {
    const syn = (streamId: number) =>
      encodeFrame(
        { type: 'SYN_STREAM', streamId, associatedStreamId: 0, priority: 0, fin: false, unidirectional: false, headers: {} },
        Buffer.from('compressed headers, never read'),
      );
    const data = Buffer.concat([dataFrameHeader(1, 5, false), Buffer.from('hello')]);
    const frames = [syn(1), syn(3), data, encodeFrame({ type: 'PING', id: 1 }), syn(5)];
    const stream = Buffer.concat(frames);
    const boundaries = new FrameBoundaries();
    const at: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      boundaries.scan(stream.subarray(i, i + 1));
      if (boundaries.atBoundary) at.push(i + 1);
    }
    let end = 0;
    expect(at).toEqual(frames.map((f) => (end += f.length)));
    expect([boundaries.firstClientStream, boundaries.lastClientStream]).toEqual([1, 5]);
  });
});

describe('UpgradeRelay ending', () => {
  const sockets: net.Socket[] = [];
  afterEach(() => sockets.forEach((s) => s.destroy()));

  /** A relay between a fake server (write with `server`) and a client whose bytes are collected. */
  const relayed = async () => {
    const [server, upstream] = await socketPair();
    const [client, clientSide] = await socketPair();
    sockets.push(server, upstream, client, clientSide);
    let received = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    let atServer = '';
    server.on('data', (chunk: Buffer) => (atServer += chunk.toString('latin1')));
    const ended = new Promise<void>((resolve) => client.once('end', resolve));
    const relay = new UpgradeRelay(upstream, clientSide, new WebSocketBoundaries());
    relay.start(Buffer.alloc(0), Buffer.alloc(0));
    return { server, client, relay, received: () => received, atServer: () => atServer, ended };
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

  it('finishes the frame in progress, then sends its own bytes and ends; nothing after reaches the client', async () => {
    const { server, relay, received, ended } = await relayed();
    const big = frame(2, Buffer.alloc(1000, 7));
    server.write(big.subarray(0, 400));
    await settle();
    relay.endWith(closeFrame(1000, 'bye'));
    await settle();
    server.write(Buffer.concat([big.subarray(400), frame(2, Buffer.from('late'))]));
    await ended;
    const frames = serverFrames(received());
    expect(frames.map((f) => [f.opcode, f.payload.length])).toEqual([
      [2, 1000],
      [8, 5],
    ]);
    expect(frames[1]!.payload.subarray(2).toString()).toBe('bye');
  });

  it('waits for the last part of a fragmented message, through a ping between its parts', async () => {
    const { server, relay, received, ended } = await relayed();
    server.write(Buffer.concat([frame(2, Buffer.from('part1'), false), frame(9, Buffer.from('p'))]));
    await settle();
    relay.endWith(closeFrame(1000));
    await settle();
    server.write(Buffer.concat([frame(0, Buffer.from('part2')), frame(2, Buffer.from('late'))]));
    await ended;
    expect(serverFrames(received()).map((f) => f.opcode)).toEqual([2, 9, 0, 8]);
  });

  it("stops relaying the client's bytes to the server once the ending starts (a locked user's input never reaches the pod)", async () => {
    const { server, client, relay, atServer } = await relayed();
    client.write('before');
    server.write(frame(2, Buffer.alloc(1000, 7)).subarray(0, 400));
    await settle();
    relay.endWith(closeFrame(1000, 'locked'));
    client.write('after the ending');
    await settle();
    expect(atServer()).toBe('before');
  });

  it('closes without its own bytes once over 1 MiB of an unfinished frame followed the start of the ending', async () => {
    const { server, relay, received, ended } = await relayed();
    // The relay drops the server's connection with the flood unread: a reset here is expected.
    server.on('error', () => undefined);
    server.write(Buffer.from([0x82, 127, 0, 0, 1, 0, 0, 0, 0, 0]));
    await settle();
    const startedAt = Date.now();
    relay.endWith(closeFrame(1000, 'bye'));
    server.write(Buffer.alloc(2 * 1024 * 1024, 0x41));
    await ended;
    // Well before the 2 s given to a frame to finish, and no Close: it would land inside the frame.
    expect(Date.now() - startedAt).toBeLessThan(1_500);
    expect(received().includes(Buffer.from('bye'))).toBe(false);
  });

  it('ends at once between messages', async () => {
    const { server, relay, received, ended } = await relayed();
    server.write(frame(2, Buffer.from('whole')));
    await settle();
    relay.endWith(closeFrame(1000));
    await ended;
    expect(serverFrames(received()).map((f) => f.opcode)).toEqual([2, 8]);
  });
});
