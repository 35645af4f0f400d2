// A small SPDY/3.1 client for tests, built from lib/spdy's parser and writer: it opens streams
// (odd ids, as kubectl does), collects what arrives on each, and records every frame the server
// sent, so a test can check SYN_REPLYs, PING answers and WINDOW_UPDATEs as well as data.
import type { Duplex } from 'node:stream';
import { SpdyParser, SpdyWriter, type SpdyFrame, type SpdyHeaders } from '../../lib/spdy/index.js';

export interface ClientStream {
  id: number;
  /** Everything received on the stream so far. */
  received: () => Buffer;
  /** Resolves when the server half-closes the stream (FIN) or resets it. */
  ended: Promise<'fin' | 'reset'>;
  write: (data: Buffer | string, fin?: boolean) => void;
  end: () => void;
}

export class SpdyTestClient {
  readonly frames: SpdyFrame[] = [];
  private nextStreamId = 1;
  private nextPingId = 1;
  private readonly writer: SpdyWriter;
  private readonly listeners = new Set<(frame: SpdyFrame) => void>();
  private readonly streams = new Map<number, { chunks: Buffer[]; end: (how: 'fin' | 'reset') => void }>();
  /** When true, the client sends WINDOW_UPDATEs for what it receives (a flow-controlling peer). */
  windowUpdates = false;
  error: Error | undefined;

  constructor(private readonly socket: Duplex) {
    this.writer = new SpdyWriter(
      (bytes) => socket.write(bytes),
      (error) => (this.error = error as Error),
    );
    const parser = new SpdyParser({ onFrame: (frame) => this.onFrame(frame), onError: (error) => (this.error = error) });
    socket.on('data', (chunk: Buffer) => parser.push(chunk));
    socket.on('error', (error) => (this.error = error));
  }

  send(frame: SpdyFrame): void {
    this.writer.write(frame);
  }

  openStream(headers: SpdyHeaders, fin = false): ClientStream {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const chunks: Buffer[] = [];
    let end!: (how: 'fin' | 'reset') => void;
    const ended = new Promise<'fin' | 'reset'>((resolve) => (end = resolve));
    this.streams.set(id, { chunks, end });
    this.send({ type: 'SYN_STREAM', streamId: id, associatedStreamId: 0, priority: 0, fin, unidirectional: false, headers });
    return {
      id,
      received: () => Buffer.concat(chunks),
      ended,
      write: (data, fin = false) => this.send({ type: 'DATA', streamId: id, fin, data: Buffer.from(data) }),
      end: () => this.send({ type: 'DATA', streamId: id, fin: true, data: Buffer.alloc(0) }),
    };
  }

  /** Sends a PING and resolves when the server echoes it. */
  ping(): Promise<void> {
    const id = this.nextPingId;
    this.nextPingId += 2;
    const answered = this.waitFor((frame) => frame.type === 'PING' && frame.id === id);
    this.send({ type: 'PING', id });
    return answered.then(() => undefined);
  }

  waitFor(match: (frame: SpdyFrame) => boolean): Promise<SpdyFrame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const listener = (frame: SpdyFrame) => {
        if (!match(frame)) return;
        this.listeners.delete(listener);
        resolve(frame);
      };
      this.listeners.add(listener);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onFrame(frame: SpdyFrame): void {
    this.frames.push(frame);
    if (frame.type === 'DATA') {
      const stream = this.streams.get(frame.streamId);
      stream?.chunks.push(frame.data);
      if (this.windowUpdates && frame.data.length > 0) {
        this.send({ type: 'WINDOW_UPDATE', streamId: frame.streamId, delta: frame.data.length });
        this.send({ type: 'WINDOW_UPDATE', streamId: 0, delta: frame.data.length });
      }
      if (frame.fin) stream?.end('fin');
    } else if ((frame.type === 'SYN_REPLY' || frame.type === 'HEADERS') && frame.fin) {
      this.streams.get(frame.streamId)?.end('fin');
    } else if (frame.type === 'RST_STREAM') {
      this.streams.get(frame.streamId)?.end('reset');
    }
    for (const listener of [...this.listeners]) listener(frame);
  }
}

/** The bytes one writer sends for `frames` (header blocks compressed in one context, as one side of a session). */
export async function spdyFrameBytes(frames: SpdyFrame[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const writer = new SpdyWriter(
    (bytes) => out.push(Buffer.from(bytes)) > 0,
    (error) => {
      throw error;
    },
  );
  for (const frame of frames) writer.write(frame);
  await new Promise<void>((resolve) => writer.whenFlushed(resolve));
  writer.close();
  return Buffer.concat(out);
}
