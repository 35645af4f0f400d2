// kubectl's spdystream ignores the window we grant, so when an application reads a stream slower
// than kubectl sends (a port-forward echo whose user is not reading), the only backpressure left
// is the connection's: the session stops reading the socket while a stream holds more unread
// than its window, and reads on once the application catches up. Without this, the stand-in
// buffered everything kubectl sent (300 MB in a trial).
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { SpdySession, type SpdyStream } from '../../lib/spdy/index.js';
import { SpdyTestClient } from '../support/spdy-client.js';

const open: Array<{ close: () => void }> = [];
afterEach(() => {
  for (const thing of open.splice(0)) thing.close();
});

const MiB = 1024 * 1024;

describe('SPDY session receive backpressure', () => {
  it('pauses the socket while a stream holds more than its window unread, and resumes when it is read', async () => {
    let serverSocket!: net.Socket;
    let stream!: SpdyStream;
    let streamOpened!: () => void;
    const opened = new Promise<void>((resolve) => (streamOpened = resolve));
    const server = net.createServer((socket) => {
      serverSocket = socket;
      new SpdySession(socket, { receiveWindow: MiB }).on('stream', (s) => {
        stream = s; // not read until the test says so
        streamOpened();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    open.push({ close: () => server.close() });
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    const client = new SpdyTestClient(socket);
    open.push(client);

    const sent = client.openStream({ streamtype: 'data' });
    await opened;
    const chunk = Buffer.alloc(32 * 1024, 1);
    // 8 MiB, eight times the window, sent without regard to it as spdystream does.
    for (let i = 0; i < 256; i++) sent.write(chunk);

    await expect.poll(() => serverSocket.isPaused(), { timeout: 10_000 }).toBe(true);
    // What the stream holds stays near its window; the rest waits in the kernel and the client.
    expect(stream.readableLength).toBeLessThan(MiB + 256 * 1024);

    let received = 0;
    stream.on('data', (c: Buffer) => (received += c.length));
    await expect.poll(() => received, { timeout: 10_000 }).toBe(8 * MiB);
    expect(serverSocket.isPaused()).toBe(false);
  });
});
