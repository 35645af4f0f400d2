// The session tap over real frames: WebSocket frames as the ws library writes them (masked from
// the client), SPDY/3.1 frames from lib/spdy's writer with its header compression, fed in chunks
// cut anywhere, as TCP may deliver them.
import * as ws from 'ws';
import { describe, expect, it } from 'vitest';
import { type ExitStatus, type SessionActivity, SessionTap, exitStatusOf } from '../../agent/session-tap.js';
import { SpdyWriter, type SpdyFrame } from '../../lib/spdy/index.js';

class Collected implements SessionActivity {
  stdout = Buffer.alloc(0);
  stderr = Buffer.alloc(0);
  stdin = Buffer.alloc(0);
  resizes: string[] = [];
  exits: ExitStatus[] = [];
  output(data: Buffer, stream: 'stdout' | 'stderr'): void {
    this[stream] = Buffer.concat([this[stream], data]);
  }
  input(data: Buffer): void {
    this.stdin = Buffer.concat([this.stdin, data]);
  }
  resize(width: number, height: number): void {
    this.resizes.push(`${width}x${height}`);
  }
  exit(status: ExitStatus): void {
    this.exits.push(status);
  }
}

// ws's frame writer (what its clients and servers send); its type declarations leave it out.
const { Sender } = ws as unknown as {
  Sender: { frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] };
};

const OPCODE = { continuation: 0, binary: 2, ping: 9 } as const;

/** One WebSocket frame as ws sends it; client frames are masked. */
function wsFrame(payload: Buffer, options: { mask: boolean; fin?: boolean; opcode?: number }): Buffer {
  const parts = Sender.frame(Buffer.from(payload), {
    fin: options.fin ?? true,
    opcode: options.opcode ?? OPCODE.binary,
    mask: options.mask,
    readOnly: false,
    rsv1: false,
  });
  return Buffer.concat(parts);
}

const channel = (id: number, data: string | Buffer) => Buffer.concat([Buffer.from([id]), Buffer.from(data)]);

const exitStatus3 = JSON.stringify({
  metadata: {},
  status: 'Failure',
  message: 'command terminated with non-zero exit code: error executing command [sh], exit code 3',
  reason: 'NonZeroExitCode',
  details: { causes: [{ reason: 'ExitCode', message: '3' }] },
});

/** A small TTY session over v5: a resize, keystrokes, output with a character cut between two messages, the exit Status. */
function webSocketSession() {
  const check = Buffer.from('ok ✓ done\r\n');
  const cut = check.indexOf(0xe2) + 1; // inside the three bytes of ✓
  const client = Buffer.concat([
    wsFrame(channel(4, '{"Width":120,"Height":40}\n'), { mask: true }),
    wsFrame(channel(0, 'ls\r'), { mask: true }),
    wsFrame(channel(4, '{"Width":100,"Height":30}\n'), { mask: true }),
    wsFrame(Buffer.from([255, 0]), { mask: true }),
  ]);
  const server = Buffer.concat([
    wsFrame(channel(1, 'root@web-0:/# '), { mask: false }),
    wsFrame(channel(1, check.subarray(0, cut)), { mask: false }),
    wsFrame(channel(1, check.subarray(cut)), { mask: false }),
    wsFrame(channel(3, exitStatus3), { mask: false }),
  ]);
  return { client, server, stdout: `root@web-0:/# ${check.toString()}` };
}

function tapWebSocket(): { tap: SessionTap; seen: Collected; errors: string[] } {
  const seen = new Collected();
  const errors: string[] = [];
  return { tap: new SessionTap('websocket', seen, (message) => errors.push(message)), seen, errors };
}

describe('the session tap on WebSocket channels (v4/v5.channel.k8s.io)', () => {
  it('reads output, keystrokes, resizes and the exit code of a terminal session', () => {
    const session = webSocketSession();
    const { tap, seen, errors } = tapWebSocket();
    tap.fromClient(session.client);
    tap.fromServer(session.server);
    tap.close();
    expect(seen.stdout.toString()).toBe(session.stdout);
    expect(seen.stdin.toString()).toBe('ls\r');
    expect(seen.resizes).toEqual(['120x40', '100x30']);
    expect(seen.exits).toEqual([{ code: 3, error: JSON.parse(exitStatus3).message }]);
    expect(tap.bytesIn).toBe(3);
    expect(tap.bytesOut).toBe(Buffer.byteLength(session.stdout));
    expect(tap.wireIn).toBe(session.client.length);
    expect(tap.wireOut).toBe(session.server.length);
    expect(errors).toEqual([]);
  });

  it('reads the same session whatever byte offset each direction is cut at, and one byte at a time', () => {
    const session = webSocketSession();
    const cuts = Math.max(session.client.length, session.server.length);
    for (let at = 0; at <= cuts; at++) {
      const { tap, seen, errors } = tapWebSocket();
      tap.fromClient(session.client.subarray(0, at));
      tap.fromServer(session.server.subarray(0, at));
      tap.fromClient(session.client.subarray(at));
      tap.fromServer(session.server.subarray(at));
      tap.close();
      expect({ at, stdout: seen.stdout.toString(), stdin: seen.stdin.toString(), resizes: seen.resizes, errors }).toEqual({
        at,
        stdout: session.stdout,
        stdin: 'ls\r',
        resizes: ['120x40', '100x30'],
        errors: [],
      });
      expect(seen.exits).toHaveLength(1);
    }
    const { tap, seen } = tapWebSocket();
    for (const byte of session.client) tap.fromClient(Buffer.from([byte]));
    for (const byte of session.server) tap.fromServer(Buffer.from([byte]));
    expect(seen.stdout.toString()).toBe(session.stdout);
    expect(seen.exits[0]!.code).toBe(3);
  });

  it('joins a message sent in several frames, with a ping between them, into one channel', () => {
    const { tap, seen } = tapWebSocket();
    tap.fromServer(
      Buffer.concat([
        wsFrame(channel(2, 'warn'), { mask: false, fin: false }),
        wsFrame(Buffer.from('ping'), { mask: false, opcode: OPCODE.ping }),
        wsFrame(Buffer.from('ing: '), { mask: false, fin: false, opcode: OPCODE.continuation }),
        wsFrame(Buffer.from('disk'), { mask: false, opcode: OPCODE.continuation }),
        wsFrame(channel(3, '{"metadata":{},"status":"Success"}'), { mask: false }),
      ]),
    );
    tap.fromClient(
      Buffer.concat([
        wsFrame(channel(4, '{"Width":8'), { mask: true, fin: false }),
        wsFrame(Buffer.from('0,"Height":24}'), { mask: true, opcode: OPCODE.continuation }),
      ]),
    );
    expect(seen.stderr.toString()).toBe('warning: disk');
    expect(seen.stdout.length).toBe(0);
    expect(seen.resizes).toEqual(['80x24']);
    expect(seen.exits).toEqual([{ code: 0 }]);
  });

  it('reads a large output message (64-bit length) without holding it whole', () => {
    const { tap, seen } = tapWebSocket();
    const big = Buffer.alloc(70_000, 'x');
    const frame = wsFrame(channel(1, big), { mask: false });
    expect(frame[1]).toBe(127);
    for (let i = 0; i < frame.length; i += 16_384) tap.fromServer(frame.subarray(i, i + 16_384));
    expect(seen.stdout.equals(big)).toBe(true);
  });

  it('stops at bytes that are not WebSocket frames, says so once, and keeps counting the bytes relayed', () => {
    const { tap, seen, errors } = tapWebSocket();
    const chunks = [
      wsFrame(channel(1, 'before'), { mask: false }),
      Buffer.from([0x83, 0x01, 0x00]), // reserved opcode 3
      wsFrame(channel(1, 'after'), { mask: false }),
      Buffer.from([0x8b, 0x00]),
    ];
    for (const chunk of chunks) tap.fromServer(chunk);
    expect(seen.stdout.toString()).toBe('before');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/reserved opcode 3/);
    expect(tap.wireOut).toBe(Buffer.concat(chunks).length);
  });

  it('stops at a resize that is not a size, without throwing into the relay', () => {
    const { tap, errors, seen } = tapWebSocket();
    expect(() => tap.fromClient(wsFrame(channel(4, '{"Width":"wide"}'), { mask: true }))).not.toThrow();
    expect(seen.resizes).toEqual([]);
    expect(errors[0]).toMatch(/resize message/);
  });

  it('only counts the bytes of connections it does not read (port-forward, other protocols)', () => {
    const seen = new Collected();
    const tap = new SessionTap('opaque', seen, () => undefined);
    tap.fromServer(wsFrame(channel(1, 'x'), { mask: false }));
    tap.fromClient(Buffer.from('anything'));
    expect(seen.stdout.length).toBe(0);
    expect([tap.wireIn, tap.wireOut, tap.bytesIn, tap.bytesOut]).toEqual([8, 4, 0, 0]);
  });
});

describe('the exit status read from the error channel', () => {
  it('takes Success as 0, a Failure with an ExitCode cause as that code, and another Failure as its message', () => {
    expect(exitStatusOf('{"metadata":{},"status":"Success"}')).toEqual({ code: 0 });
    expect(exitStatusOf('')).toEqual({ code: 0 });
    expect(exitStatusOf(exitStatus3)).toMatchObject({ code: 3 });
    expect(exitStatusOf('{"status":"Failure","message":"container not found (\\"web\\")","reason":"InternalError"}')).toEqual({
      error: 'container not found ("web")',
    });
    expect(exitStatusOf('{"status":"Failure","message":"m","details":{"causes":[{"reason":"ExitCode","message":"300"}]}}')).toEqual({
      error: 'm',
    });
    // Protocols before v4 carry the message as text.
    expect(exitStatusOf('error executing command: boom')).toEqual({ error: 'error executing command: boom' });
  });
});

/** The bytes a SPDY writer sends for `frames`, header blocks compressed in one context. */
async function spdyBytes(frames: SpdyFrame[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const writer = new SpdyWriter(
    (bytes) => (out.push(Buffer.from(bytes)), true),
    (error) => {
      throw error;
    },
  );
  for (const frame of frames) writer.write(frame);
  await new Promise<void>((resolve) => writer.whenFlushed(resolve));
  writer.close();
  return Buffer.concat(out);
}

const syn = (streamId: number, streamtype: string, fin = false): SpdyFrame => ({
  type: 'SYN_STREAM',
  streamId,
  associatedStreamId: 0,
  priority: 0,
  fin,
  unidirectional: false,
  headers: { streamtype },
});
const data = (streamId: number, text: string | Buffer, fin = false): SpdyFrame => ({
  type: 'DATA',
  streamId,
  fin,
  data: Buffer.from(text),
});

async function spdySession() {
  const client = await spdyBytes([
    syn(1, 'error', true),
    syn(3, 'stdin'),
    syn(5, 'stdout'),
    syn(7, 'resize'),
    data(7, '{"Width":120,"Height":40}\n{"Width":13'),
    data(7, '2,"Height":43}\n'),
    data(3, 'echo hi\r'),
    { type: 'PING', id: 1 },
    data(3, '', true),
  ]);
  const euro = Buffer.from('€');
  const server = await spdyBytes([
    { type: 'SYN_REPLY', streamId: 1, fin: false, headers: {} },
    { type: 'SYN_REPLY', streamId: 5, fin: false, headers: {} },
    data(5, Buffer.concat([Buffer.from('hi '), euro.subarray(0, 1)])),
    data(5, Buffer.concat([euro.subarray(1), Buffer.from('\r\n')])),
    { type: 'PING', id: 1 },
    data(1, exitStatus3, true),
    data(5, '', true),
    { type: 'GOAWAY', lastGoodStreamId: 7, status: 0 },
  ]);
  return { client, server, stdout: 'hi €\r\n' };
}

describe('the session tap on SPDY/3.1 streams', () => {
  it('reads stdout, stdin, resizes (however the frames cut the lines) and the exit Status by stream type', async () => {
    const session = await spdySession();
    const seen = new Collected();
    const errors: string[] = [];
    const tap = new SessionTap('spdy', seen, (message) => errors.push(message));
    tap.fromClient(session.client);
    tap.fromServer(session.server);
    await expect.poll(() => seen.exits.length).toBe(1);
    expect(seen.stdout.toString()).toBe(session.stdout);
    expect(seen.stdin.toString()).toBe('echo hi\r');
    expect(seen.resizes).toEqual(['120x40', '132x43']);
    expect(seen.exits[0]).toMatchObject({ code: 3 });
    expect(errors).toEqual([]);
    tap.close();
  });

  it('reads the same session whatever byte offset each direction is cut at', async () => {
    const session = await spdySession();
    for (let at = 0; at <= Math.max(session.client.length, session.server.length); at += 1) {
      const seen = new Collected();
      const errors: string[] = [];
      const tap = new SessionTap('spdy', seen, (message) => errors.push(message));
      tap.fromClient(session.client.subarray(0, at));
      tap.fromServer(session.server.subarray(0, at));
      tap.fromClient(session.client.subarray(at));
      tap.fromServer(session.server.subarray(at));
      // Header blocks inflate asynchronously: server data may come before the stream it is on is known.
      await expect
        .poll(() => ({ at, stdout: seen.stdout.toString(), resizes: seen.resizes, exits: seen.exits.length, errors }), { interval: 1 })
        .toEqual({ at, stdout: session.stdout, resizes: ['120x40', '132x43'], exits: 1, errors: [] });
      tap.close();
    }
  });

  it('reads the frames still inflating when the connection ends, and a Status whose stream got no FIN', async () => {
    const client = await spdyBytes([syn(1, 'error', true), syn(3, 'stdout')]);
    const server = await spdyBytes([data(1, '{"metadata":{},"status":"Success"}')]);
    const seen = new Collected();
    const tap = new SessionTap('spdy', seen, () => undefined);
    tap.fromClient(client);
    tap.fromServer(server);
    // The header blocks are still inflating: closing waits for them before it reads the held Status.
    await tap.close();
    expect(seen.exits).toEqual([{ code: 0 }]);
  });

  it('stops at bytes that are not SPDY/3, says so once, and keeps counting', async () => {
    const seen = new Collected();
    const errors: string[] = [];
    const tap = new SessionTap('spdy', seen, (message) => errors.push(message));
    tap.fromClient(Buffer.from([0x80, 0x02, 0x00, 0x01, 0, 0, 0, 0]));
    tap.fromClient(Buffer.from('more bytes'));
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toMatch(/SPDY version 2/);
    expect(tap.wireIn).toBe(18);
  });
});
