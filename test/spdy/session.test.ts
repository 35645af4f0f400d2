// The SPDY/3.1 server session over a real loopback socket, driven by a client built from the
// same framing: streams, PING, flow control both ways, RST_STREAM and GOAWAY.
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { SpdySession, type SpdySessionOptions, type SpdyStream } from '../../lib/spdy/index.js';
import { SpdyTestClient } from '../support/spdy-client.js';

const open: Array<{ close: () => void }> = [];
afterEach(() => {
  for (const thing of open.splice(0)) thing.close();
});

/** A loopback server whose every connection is a SpdySession; returns a connected test client. */
async function connect(options: SpdySessionOptions, onStream: (stream: SpdyStream, session: SpdySession) => void) {
  const sessions: SpdySession[] = [];
  const server = net.createServer((socket) => {
    const session = new SpdySession(socket, options);
    sessions.push(session);
    session.on('stream', (stream) => onStream(stream, session));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push({ close: () => server.close() });
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  const client = new SpdyTestClient(socket);
  open.push(client);
  return { client, sessions };
}

describe('SPDY/3.1 server session', () => {
  it('answers each SYN_STREAM with SYN_REPLY and carries data both ways with FIN', async () => {
    const { client } = await connect({}, (stream) => {
      expect(stream.headers.streamtype).toBe('stdin');
      // Echo in upper case, then half-close when the client has.
      stream.on('data', (chunk: Buffer) => stream.write(chunk.toString().toUpperCase()));
      stream.on('end', () => stream.end());
    });
    const stream = client.openStream({ streamtype: 'stdin' });
    await client.waitFor((f) => f.type === 'SYN_REPLY' && f.streamId === stream.id);
    stream.write('hello ');
    stream.write('spdy', true);
    expect(await stream.ended).toBe('fin');
    expect(stream.received().toString()).toBe('HELLO SPDY');
  });

  it('answers the client PINGs', async () => {
    const { client } = await connect({}, () => undefined);
    await client.ping();
    await client.ping();
    expect(client.frames.filter((f) => f.type === 'PING').map((f) => f.type === 'PING' && f.id)).toEqual([1, 3]);
  });

  it('announces a 1 MiB window and reopens it with WINDOW_UPDATEs as data is consumed', async () => {
    let total = 0;
    const { client } = await connect({}, (stream) => {
      stream.on('data', (chunk: Buffer) => (total += chunk.length));
      stream.on('end', () => stream.end());
    });
    const settings = await client.waitFor((f) => f.type === 'SETTINGS');
    expect(settings).toMatchObject({ settings: [{ id: 7, value: 1024 * 1024 }] });
    const stream = client.openStream({ streamtype: 'stdin' });
    const chunk = Buffer.alloc(32 * 1024, 1);
    for (let i = 0; i < 128; i++) stream.write(chunk); // 4 MiB: four times the window
    stream.end();
    await stream.ended;
    expect(total).toBe(4 * 1024 * 1024);
    const granted = (id: number) =>
      client.frames.reduce((sum, f) => sum + (f.type === 'WINDOW_UPDATE' && f.streamId === id ? f.delta : 0), 0);
    // What was granted back covers what was sent beyond the first window.
    expect(granted(stream.id)).toBeGreaterThanOrEqual(3 * 1024 * 1024);
    expect(granted(0)).toBeGreaterThanOrEqual(3 * 1024 * 1024);
  });

  it('holds its sending to the peer window when asked to, and resumes on WINDOW_UPDATE', async () => {
    const { client } = await connect({ peerFlowControl: true }, (stream) => {
      stream.end(Buffer.alloc(200 * 1024, 2));
    });
    const stream = client.openStream({ streamtype: 'stdout' });
    // Without WINDOW_UPDATEs, the server stops at the default 64 KiB window.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stream.received().length).toBe(64 * 1024);
    client.windowUpdates = true;
    client.send({ type: 'WINDOW_UPDATE', streamId: stream.id, delta: 64 * 1024 });
    client.send({ type: 'WINDOW_UPDATE', streamId: 0, delta: 64 * 1024 });
    expect(await stream.ended).toBe('fin');
    expect(stream.received().length).toBe(200 * 1024);
  });

  it('sends without waiting for WINDOW_UPDATEs by default, as kubectl never sends them', async () => {
    const { client } = await connect({}, (stream) => stream.end(Buffer.alloc(1024 * 1024, 3)));
    const stream = client.openStream({ streamtype: 'stdout' });
    expect(await stream.ended).toBe('fin');
    expect(stream.received().length).toBe(1024 * 1024);
  });

  it('applies backpressure: a stream write waits for the socket', async () => {
    let resolveWrites!: (n: number) => void;
    const writes = new Promise<number>((resolve) => (resolveWrites = resolve));
    const { client } = await connect({}, (stream) => {
      // Keep writing until the stream asks to wait; the bytes in flight stay bounded.
      let written = 0;
      const chunk = Buffer.alloc(64 * 1024);
      while (stream.write(chunk)) written += chunk.length;
      resolveWrites(written);
      stream.end();
    });
    client.openStream({ streamtype: 'stdout' });
    expect(await writes).toBeLessThan(1024 * 1024);
  });

  it('resets a stream both ways', async () => {
    const resets: number[] = [];
    const { client } = await connect({}, (stream) => {
      if (stream.headers.streamtype === 'reset-me') stream.reset(3);
      else stream.on('reset', (status: number) => resets.push(status));
    });
    const first = client.openStream({ streamtype: 'reset-me' });
    expect(await first.ended).toBe('reset');
    expect(client.frames).toContainEqual({ type: 'RST_STREAM', streamId: first.id, status: 3 });
    const second = client.openStream({ streamtype: 'data' });
    await client.waitFor((f) => f.type === 'SYN_REPLY' && f.streamId === second.id);
    client.send({ type: 'RST_STREAM', streamId: second.id, status: 5 });
    await client.ping();
    expect(resets).toEqual([5]);
  });

  it('sends GOAWAY, refuses new streams, and closes the connection when the last stream ends', async () => {
    let held: SpdyStream | undefined;
    const { client, sessions } = await connect({}, (stream) => (held = stream));
    const first = client.openStream({ streamtype: 'error' });
    await client.waitFor((f) => f.type === 'SYN_REPLY');
    sessions[0]!.goAway();
    const goaway = await client.waitFor((f) => f.type === 'GOAWAY');
    expect(goaway).toEqual({ type: 'GOAWAY', lastGoodStreamId: first.id, status: 0 });
    const refused = client.openStream({ streamtype: 'late' });
    expect(await refused.ended).toBe('reset');
    const closed = once(sessions[0]!, 'close');
    held!.end('bye');
    first.end();
    held!.resume();
    await closed;
    expect(first.received().toString()).toBe('bye');
  });

  it('ends the session with GOAWAY on bytes that are not SPDY/3', async () => {
    const { client, sessions } = await connect({}, () => undefined);
    await client.ping();
    const closed = once(sessions[0]!, 'close');
    client['socket'].write(Buffer.from([0x80, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]));
    const [error] = (await closed) as [Error];
    expect(error.message).toMatch(/SPDY version 2/);
    expect(await client.waitFor((f) => f.type === 'GOAWAY')).toEqual({ type: 'GOAWAY', lastGoodStreamId: 0, status: 1 });
  });
});
