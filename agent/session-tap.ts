// A passive reader of an upgraded exec, attach or port-forward connection: it is handed copies
// of the bytes relayed each way (never the stream itself, so it can neither delay nor change it)
// and says what happened in the session: output, input, resizes, the exit status, bytes.
//
// WebSocket (v4/v5.channel.k8s.io): binary messages whose first byte is the channel (0 stdin,
// 1 stdout, 2 stderr, 3 error Status, 4 resize, 255 v5 close); client frames are masked and
// messages may come in several frames. SPDY/3.1: one parser per direction (each direction has
// its own header compression context); the client's SYN_STREAM headers name each stream's type.
// Anything it cannot read stops the tap, never the session.
import { SpdyParser, type SpdyFrame } from '../lib/spdy/index.js';
import { headerLength } from './websocket-frames.js';

export interface ExitStatus {
  /** The command's exit code, when the Status gave one (0 for Success). */
  code?: number;
  /** What a Failure Status said. */
  error?: string;
}

export interface SessionActivity {
  output(data: Buffer, stream: 'stdout' | 'stderr'): void;
  input(data: Buffer): void;
  resize(width: number, height: number): void;
  exit(status: ExitStatus): void;
}

/** How the tap reads a connection: by channels (WebSocket), by streams (SPDY), or bytes only. */
export type TapProtocol = 'websocket' | 'spdy' | 'opaque';

const CHANNEL_PROTOCOLS = new Set(['v4.channel.k8s.io', 'v5.channel.k8s.io']);

/** The protocol the tap reads for an upgrade granted as `upgrade` with `subprotocol` (Sec-WebSocket-Protocol). */
export function tapProtocol(upgrade: string, subprotocol: string, remoteCommand: boolean): TapProtocol {
  if (!remoteCommand) return 'opaque';
  if (upgrade === 'websocket') return CHANNEL_PROTOCOLS.has(subprotocol) ? 'websocket' : 'opaque';
  return upgrade === 'spdy/3.1' ? 'spdy' : 'opaque';
}

/** Error Statuses and resize messages are small; a larger one is not read. */
const MAX_CONTROL_MESSAGE_BYTES = 64 * 1024;
/** Output for a SPDY stream whose SYN_STREAM headers are still being decompressed. */
const MAX_EARLY_BYTES = 1024 * 1024;

const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;

export class SessionTap {
  /** Bytes on the wire from the client and toward it. */
  wireIn = 0;
  wireOut = 0;
  /** Payload bytes: stdin from the client; stdout and stderr toward it. */
  bytesIn = 0;
  bytesOut = 0;
  private stopped = false;
  private exited = false;
  private readonly reader: DirectionReaders | undefined;

  constructor(
    protocol: TapProtocol,
    private readonly activity: SessionActivity,
    private readonly onError: (message: string) => void,
  ) {
    const sink: ChannelSink = {
      output: (data, stream) => {
        this.bytesOut += data.length;
        activity.output(data, stream);
      },
      input: (data) => {
        this.bytesIn += data.length;
        activity.input(data);
      },
      resize: (text) => this.resize(text),
      status: (text) => this.status(text),
      fail: (error) => this.stop(error),
    };
    this.reader = protocol === 'websocket' ? webSocketReaders(sink) : protocol === 'spdy' ? spdyReaders(sink) : undefined;
  }

  fromClient(chunk: Buffer): void {
    this.wireIn += chunk.length;
    if (!this.stopped && this.reader) this.guard(() => this.reader!.fromClient(chunk));
  }

  fromServer(chunk: Buffer): void {
    this.wireOut += chunk.length;
    if (!this.stopped && this.reader) this.guard(() => this.reader!.fromServer(chunk));
  }

  /**
   * The connection ended: frames still being read (SPDY header blocks inflate asynchronously)
   * are read, then what is still held (an error stream without its FIN). Resolves when done.
   */
  async close(): Promise<void> {
    if (this.stopped || !this.reader) return;
    await this.reader.settled();
    if (this.stopped) return;
    this.stopped = true;
    this.guard(() => this.reader!.close());
  }

  private guard(read: () => void): void {
    try {
      read();
    } catch (error) {
      this.stop(error);
    }
  }

  private stop(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      this.reader?.close();
    } catch {
      // already failing: the first error is the one reported
    }
    this.onError(error instanceof Error ? error.message : String(error));
  }

  private resize(text: string): void {
    const size = JSON.parse(text) as { Width?: unknown; Height?: unknown };
    const width = Number(size.Width);
    const height = Number(size.Height);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || width > 0xffff || height > 0xffff)
      throw new Error(`a resize message is not {"Width":…,"Height":…}: ${text.slice(0, 80)}`);
    this.activity.resize(width, height);
  }

  private status(text: string): void {
    if (this.exited) return;
    this.exited = true;
    this.activity.exit(exitStatusOf(text));
  }
}

/** What the error channel (or stream) said: a Status in JSON, or, for protocols before v4, plain text. */
export function exitStatusOf(text: string): ExitStatus {
  const trimmed = text.trim();
  if (trimmed === '') return { code: 0 };
  let status: { status?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } };
  try {
    status = JSON.parse(trimmed) as typeof status;
  } catch {
    return { error: trimmed };
  }
  if (status.status === 'Success') return { code: 0 };
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  const message = status.message ?? trimmed;
  // kubectl takes the code as a uint8; anything else is an error without a code, as it says.
  if (cause && Number.isInteger(code) && code >= 0 && code <= 255) return { code, error: message };
  return { error: message };
}

interface ChannelSink {
  output(data: Buffer, stream: 'stdout' | 'stderr'): void;
  input(data: Buffer): void;
  resize(text: string): void;
  status(text: string): void;
  fail(error: unknown): void;
}

interface DirectionReaders {
  fromClient(chunk: Buffer): void;
  fromServer(chunk: Buffer): void;
  /** Resolves once everything fed so far has been read. */
  settled(): Promise<void>;
  close(): void;
}

/** Time the frames already received get to be read once the connection ended. */
const SETTLE_MAX_MS = 2_000;

/** Collects a small message in pieces; one over the cap is an error. */
class SmallMessage {
  private chunks: Buffer[] = [];
  private size = 0;

  add(piece: Buffer): void {
    this.size += piece.length;
    if (this.size > MAX_CONTROL_MESSAGE_BYTES) throw new Error(`a control message is over ${MAX_CONTROL_MESSAGE_BYTES} bytes`);
    this.chunks.push(piece);
  }

  take(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    this.chunks = [];
    this.size = 0;
    return text;
  }

  get empty(): boolean {
    return this.size === 0;
  }
}

function webSocketReaders(sink: ChannelSink): DirectionReaders {
  const status = new SmallMessage();
  const resize = new SmallMessage();
  const fromServer = new WebSocketMessages((channel, piece, last) => {
    if (channel === Channel.stdout && piece.length > 0) sink.output(piece, 'stdout');
    else if (channel === Channel.stderr && piece.length > 0) sink.output(piece, 'stderr');
    else if (channel === Channel.error) {
      status.add(piece);
      if (last) sink.status(status.take());
    }
  });
  const fromClient = new WebSocketMessages((channel, piece, last) => {
    if (channel === Channel.stdin && piece.length > 0) sink.input(piece);
    else if (channel === Channel.resize) {
      resize.add(piece);
      if (last) {
        const text = resize.take();
        if (text.trim() !== '') sink.resize(text);
      }
    }
  });
  return {
    fromClient: (c) => fromClient.push(c),
    fromServer: (c) => fromServer.push(c),
    settled: () => Promise.resolve(),
    close: () => undefined,
  };
}

const OP_CONTINUATION = 0x0;
const OP_CLOSE = 0x8;

/**
 * The messages of one direction of a WebSocket connection, handed on in pieces as their bytes
 * arrive (a message is never held whole): `onPiece(channel, piece, last)`, where the channel is
 * the message's first payload byte. Control frames (ping, pong, close) are skipped.
 */
export class WebSocketMessages {
  private readonly header = Buffer.alloc(14);
  private headerBytes = 0;
  /** Payload bytes of the current frame still to come; -1 between frames. */
  private remaining = -1;
  private mask: Buffer | undefined;
  private maskOffset = 0;
  private control = false;
  private fin = false;
  /** Inside a data message (its first frame seen, its last not yet). */
  private inMessage = false;
  /** The current message's channel, once its first payload byte came. */
  private channel: number | undefined;

  constructor(private readonly onPiece: (channel: number, piece: Buffer, last: boolean) => void) {}

  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.remaining < 0) {
        this.header[this.headerBytes++] = chunk[i++]!;
        if (this.headerBytes < 2 || this.headerBytes < headerLength(this.header[1]!)) continue;
        this.startFrame();
        if (this.remaining === 0) this.endFrame();
        continue;
      }
      const take = Math.min(this.remaining, n - i);
      const piece = chunk.subarray(i, i + take);
      i += take;
      this.remaining -= take;
      if (!this.control) this.payload(piece);
      if (this.remaining === 0) this.endFrame();
    }
  }

  private startFrame(): void {
    const first = this.header[0]!;
    const second = this.header[1]!;
    this.fin = (first & 0x80) !== 0;
    const opcode = first & 0x0f;
    const short = second & 0x7f;
    const masked = (second & 0x80) !== 0;
    const lengthBytes = short === 126 ? 2 : short === 127 ? 8 : 0;
    let length = short;
    if (short === 126) length = this.header.readUInt16BE(2);
    else if (short === 127) {
      const long = this.header.readBigUInt64BE(2);
      if (long > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('a WebSocket frame announces more bytes than can be followed');
      length = Number(long);
    }
    this.mask = masked ? Buffer.from(this.header.subarray(2 + lengthBytes, 6 + lengthBytes)) : undefined;
    this.maskOffset = 0;
    this.headerBytes = 0;
    this.remaining = length;
    this.control = opcode >= OP_CLOSE;
    if (this.control) {
      if (opcode > 0xa || !this.fin || length > 125) throw new Error(`a WebSocket control frame is not valid (opcode ${opcode})`);
      return;
    }
    if (opcode > 0x2) throw new Error(`a WebSocket frame has the reserved opcode ${opcode}`);
    if (opcode === OP_CONTINUATION && !this.inMessage) throw new Error('a WebSocket continuation frame came outside a message');
    if (opcode !== OP_CONTINUATION && this.inMessage) throw new Error('a WebSocket message began inside another');
    if (!this.inMessage) {
      this.inMessage = true;
      this.channel = undefined;
    }
  }

  private payload(piece: Buffer): void {
    if (piece.length === 0) return;
    let data = piece;
    if (this.mask) {
      data = Buffer.allocUnsafe(piece.length);
      for (let k = 0; k < piece.length; k++) data[k] = piece[k]! ^ this.mask[(this.maskOffset + k) & 3]!;
      this.maskOffset = (this.maskOffset + piece.length) & 3;
    }
    if (this.channel === undefined) {
      this.channel = data[0]!;
      data = data.subarray(1);
    }
    if (data.length > 0) this.onPiece(this.channel, data, false);
  }

  private endFrame(): void {
    this.remaining = -1;
    if (this.control || !this.fin) return;
    this.inMessage = false;
    if (this.channel !== undefined) this.onPiece(this.channel, Buffer.alloc(0), true);
  }
}

type StreamType = 'stdin' | 'stdout' | 'stderr' | 'error' | 'resize' | 'other';

function spdyReaders(sink: ChannelSink): DirectionReaders {
  const types = new Map<number, StreamType>();
  const status = new SmallMessage();
  let resizeLine = '';
  /** Server data on streams whose SYN_STREAM is still being read (its headers decompress asynchronously). */
  const early = new Map<number, { data: Buffer; fin: boolean }[]>();
  let earlyBytes = 0;
  let failed = false;
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    sink.fail(error);
  };
  const guard = (read: () => void) => {
    if (failed) return;
    try {
      read();
    } catch (error) {
      fail(error);
    }
  };

  const serverData = (type: StreamType, data: Buffer, fin: boolean) => {
    if ((type === 'stdout' || type === 'stderr') && data.length > 0) sink.output(data, type);
    else if (type === 'error') {
      if (data.length > 0) status.add(data);
      if (fin) sink.status(status.take());
    }
  };
  const clientFrame = (frame: SpdyFrame) => {
    if (frame.type === 'SYN_STREAM') {
      const type = streamType(frame.headers.streamtype);
      types.set(frame.streamId, type);
      const held = early.get(frame.streamId);
      if (held) {
        early.delete(frame.streamId);
        for (const piece of held) {
          earlyBytes -= piece.data.length;
          serverData(type, piece.data, piece.fin);
        }
      }
    } else if (frame.type === 'DATA') {
      const type = types.get(frame.streamId);
      if (type === 'stdin' && frame.data.length > 0) sink.input(frame.data);
      else if (type === 'resize') {
        // One JSON object per line (client-go's json.Encoder), however the frames cut them.
        resizeLine += frame.data.toString('utf8');
        if (resizeLine.length > MAX_CONTROL_MESSAGE_BYTES) throw new Error('a resize message is too long');
        let end: number;
        while ((end = resizeLine.indexOf('\n')) >= 0) {
          const line = resizeLine.slice(0, end);
          resizeLine = resizeLine.slice(end + 1);
          if (line.trim() !== '') sink.resize(line);
        }
      }
    }
  };
  const serverFrame = (frame: SpdyFrame) => {
    if (frame.type !== 'DATA') return;
    const type = types.get(frame.streamId);
    if (type) return serverData(type, frame.data, frame.fin);
    earlyBytes += frame.data.length;
    if (earlyBytes > MAX_EARLY_BYTES) throw new Error('the server sent data on streams the client never opened');
    const held = early.get(frame.streamId) ?? [];
    held.push({ data: Buffer.from(frame.data), fin: frame.fin });
    early.set(frame.streamId, held);
  };
  const client = new SpdyParser({ onFrame: (f) => guard(() => clientFrame(f)), onError: fail });
  const server = new SpdyParser({ onFrame: (f) => guard(() => serverFrame(f)), onError: fail });
  return {
    fromClient: (chunk) => client.push(chunk),
    fromServer: (chunk) => server.push(chunk),
    settled: () => {
      let timer: NodeJS.Timeout | undefined;
      const idle = (parser: SpdyParser) => new Promise<void>((resolve) => parser.whenIdle(resolve));
      return Promise.race([
        Promise.all([idle(client), idle(server)]).then(() => undefined),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, SETTLE_MAX_MS))),
      ]).finally(() => clearTimeout(timer));
    },
    close: () => {
      // An error stream that ended with the connection rather than a FIN still says how it went.
      if (!failed && !status.empty) guard(() => sink.status(status.take()));
      client.close();
      server.close();
    },
  };
}

function streamType(value: string | undefined): StreamType {
  switch (value) {
    case 'stdin':
    case 'stdout':
    case 'stderr':
    case 'error':
    case 'resize':
      return value;
    default:
      return 'other';
  }
}
