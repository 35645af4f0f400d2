// The server side of a SPDY/3.1 session over any Duplex (the socket after a 101, or a
// WebSocket tunnel's byte stream): each SYN_STREAM from the client becomes a SpdyStream,
// answered at once with SYN_REPLY and emitted as 'stream'; PINGs are answered; GOAWAY ends it.
//
// Flow control. We receive with a large window (1 MiB by default, announced with SETTINGS and a
// session WINDOW_UPDATE) and send WINDOW_UPDATEs as the application consumes data, so a peer
// that honours windows never stalls on us. We do NOT, by default, hold our own sending to the
// peer's window: kubectl and the kubelet speak SPDY through spdystream, which neither sends
// WINDOW_UPDATE nor expects its windows to be honoured, so a sender that waited for one would
// stop every stream after 64 KiB. Sending is instead paced by the connection's own
// backpressure. `peerFlowControl: true` enforces the peer's windows for peers that do send
// WINDOW_UPDATEs.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { DEFAULT_WINDOW_SIZE, GoAwayStatus, RstStatus, SettingsId, type SpdyFrame, type SpdyHeaders } from './frames.js';
import { SpdyParser } from './parser.js';
import { SpdyStream, type StreamOwner } from './stream.js';
import { SpdyWriter } from './writer.js';

export interface SpdySessionOptions {
  /** The window we grant the peer per stream and for the session; default 1 MiB. */
  receiveWindow?: number;
  /** Hold our sending to the peer's windows (see the note at the top); default false. */
  peerFlowControl?: boolean;
  /** Headers of every SYN_REPLY; default none. */
  replyHeaders?: SpdyHeaders;
}

export interface SpdySessionEvents {
  stream: [stream: SpdyStream];
  /** The peer sent GOAWAY: it opens no more streams. */
  goaway: [lastGoodStreamId: number, status: number];
  /** The connection is gone; error set when it ended on a protocol or socket error. */
  close: [error?: Error];
}

export class SpdySession extends EventEmitter<SpdySessionEvents> implements StreamOwner {
  private readonly streams = new Map<number, SpdyStream>();
  private readonly parser: SpdyParser;
  private readonly writer: SpdyWriter;
  private readonly receiveWindow: number;
  private readonly peerFlowControl: boolean;
  private peerInitialWindow = DEFAULT_WINDOW_SIZE;
  private sessionSendWindow = DEFAULT_WINDOW_SIZE;
  private sessionConsumed = 0;
  private readonly streamConsumed = new Map<number, number>();
  private lastPeerStreamId = 0;
  private goingAway = false;
  /** close() was called: frames already queued still leave, streams send nothing more. */
  private ending = false;
  /** The connection is gone. */
  private closed = false;
  private finished = false;
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly socket: Duplex,
    private readonly options: SpdySessionOptions = {},
  ) {
    super();
    this.receiveWindow = options.receiveWindow ?? 1024 * 1024;
    this.peerFlowControl = options.peerFlowControl ?? false;
    this.writer = new SpdyWriter(
      (bytes) => !this.closed && socket.write(bytes),
      (error) => this.destroy(error instanceof Error ? error : new Error(String(error))),
    );
    this.parser = new SpdyParser({
      onFrame: (frame) => this.onFrame(frame),
      // Bytes that are not SPDY/3: tell the peer with GOAWAY, then end the connection.
      onError: (error) => this.shutDown(GoAwayStatus.PROTOCOL_ERROR, error),
    });
    socket.on('data', (chunk: Buffer) => this.parser.push(chunk));
    socket.on('drain', () => this.drained());
    // The peer finished sending: what we still have queued leaves, then the connection ends.
    socket.on('end', () => this.close());
    socket.on('close', () => this.destroy());
    socket.on('error', (error) => this.destroy(error));
    if (this.receiveWindow !== DEFAULT_WINDOW_SIZE) {
      this.send({
        type: 'SETTINGS',
        clearPersisted: false,
        settings: [{ id: SettingsId.INITIAL_WINDOW_SIZE, value: this.receiveWindow, flags: 0 }],
      });
      if (this.receiveWindow > DEFAULT_WINDOW_SIZE)
        this.send({ type: 'WINDOW_UPDATE', streamId: 0, delta: this.receiveWindow - DEFAULT_WINDOW_SIZE });
    }
  }

  /** Open streams, by id. */
  get openStreams(): ReadonlyMap<number, SpdyStream> {
    return this.streams;
  }

  /** Sends GOAWAY: no new streams; the connection ends once the open ones have closed. */
  goAway(status: number = GoAwayStatus.OK): void {
    if (this.goingAway || this.ending || this.closed) return;
    this.goingAway = true;
    this.send({ type: 'GOAWAY', lastGoodStreamId: this.lastPeerStreamId, status });
    this.endIfIdle();
  }

  /**
   * Sends GOAWAY and ends the connection once the frames already written have left, open
   * streams or not (they close without RST_STREAM: the connection's end closes them).
   */
  close(): void {
    this.shutDown(GoAwayStatus.OK);
  }

  private shutDown(status: number, error?: Error): void {
    if (this.ending || this.closed) return;
    if (!this.goingAway || status !== GoAwayStatus.OK) {
      this.goingAway = true;
      this.send({ type: 'GOAWAY', lastGoodStreamId: this.lastPeerStreamId, status });
    }
    this.ending = true;
    for (const stream of [...this.streams.values()]) stream.destroy();
    this.writer.whenFlushed(() => {
      this.closed = true;
      this.writer.close();
      this.parser.close();
      this.socket.end();
      this.finish(error);
    });
  }

  /** Drops the connection at once. */
  destroy(error?: Error): void {
    if (this.closed) return this.finish(error);
    this.closed = true;
    for (const stream of [...this.streams.values()]) stream.destroy();
    this.writer.close();
    this.parser.close();
    this.socket.destroy();
    this.finish(error);
  }

  private finish(error?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.drained();
    this.emit('close', error);
  }

  private send(frame: SpdyFrame): boolean {
    if (this.closed || this.ending) return false;
    return this.writer.write(frame);
  }

  private onFrame(frame: SpdyFrame): void {
    switch (frame.type) {
      case 'SYN_STREAM':
        return this.openStream(frame.streamId, frame.headers, frame.fin || frame.unidirectional);
      case 'DATA': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return void this.send({ type: 'RST_STREAM', streamId: frame.streamId, status: RstStatus.INVALID_STREAM });
        return stream.receive(frame.data, frame.fin);
      }
      case 'HEADERS': {
        const stream = this.streams.get(frame.streamId);
        stream?.emit('headers', frame.headers);
        if (frame.fin) stream?.receiveFin();
        return;
      }
      case 'RST_STREAM':
        return this.streams.get(frame.streamId)?.receiveReset(frame.status);
      case 'PING':
        // Odd ids are the client's pings, to be echoed; even ids would be answers to ours.
        if (frame.id % 2 === 1) this.send(frame);
        return;
      case 'SETTINGS':
        return this.applySettings(frame.settings);
      case 'WINDOW_UPDATE':
        return this.windowUpdate(frame.streamId, frame.delta);
      case 'GOAWAY':
        this.goingAway = true;
        this.emit('goaway', frame.lastGoodStreamId, frame.status);
        return this.endIfIdle();
      case 'SYN_REPLY':
        // A client never answers a stream: the server opens none.
        return void this.send({ type: 'RST_STREAM', streamId: frame.streamId, status: RstStatus.PROTOCOL_ERROR });
    }
  }

  private openStream(id: number, headers: SpdyHeaders, remoteFinished: boolean): void {
    if (id % 2 === 0 || id <= this.lastPeerStreamId) {
      const status = this.streams.has(id) ? RstStatus.STREAM_IN_USE : RstStatus.PROTOCOL_ERROR;
      return void this.send({ type: 'RST_STREAM', streamId: id, status });
    }
    this.lastPeerStreamId = id;
    if (this.goingAway) return void this.send({ type: 'RST_STREAM', streamId: id, status: RstStatus.REFUSED_STREAM });
    const stream = new SpdyStream(id, headers, this, this.peerInitialWindow);
    this.streams.set(id, stream);
    this.send({ type: 'SYN_REPLY', streamId: id, fin: false, headers: this.options.replyHeaders ?? {} });
    if (remoteFinished) stream.receiveFin();
    this.emit('stream', stream);
  }

  private applySettings(settings: Array<{ id: number; value: number }>): void {
    const window = settings.find((s) => s.id === SettingsId.INITIAL_WINDOW_SIZE);
    if (!window) return;
    const delta = window.value - this.peerInitialWindow;
    this.peerInitialWindow = window.value;
    for (const stream of this.streams.values()) {
      stream.sendWindow += delta;
      stream.windowGrew();
    }
  }

  private windowUpdate(streamId: number, delta: number): void {
    if (streamId === 0) {
      this.sessionSendWindow += delta;
      for (const stream of this.streams.values()) stream.windowGrew();
      return;
    }
    const stream = this.streams.get(streamId);
    if (!stream) return;
    stream.sendWindow += delta;
    stream.windowGrew();
  }

  private endIfIdle(): void {
    if (this.goingAway && this.streams.size === 0) this.close();
  }

  private drained(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter();
  }

  // StreamOwner: what streams ask of their session.

  sendData(streamId: number, data: Buffer, fin: boolean): boolean {
    if (this.closed || this.ending) return true;
    if (this.peerFlowControl) {
      const stream = this.streams.get(streamId);
      if (stream) stream.sendWindow -= data.length;
      this.sessionSendWindow -= data.length;
    }
    return this.send({ type: 'DATA', streamId, fin, data });
  }

  sendReset(streamId: number, status: number): void {
    this.send({ type: 'RST_STREAM', streamId, status });
  }

  whenDrained(callback: () => void): void {
    if (this.closed || this.ending) return callback();
    this.writer.whenFlushed(() => {
      if (this.closed || !this.socket.writableNeedDrain) callback();
      else this.drainWaiters.push(callback);
    });
  }

  sendAllowance(stream: SpdyStream): number {
    if (!this.peerFlowControl) return Infinity;
    return Math.min(stream.sendWindow, this.sessionSendWindow);
  }

  consumed(stream: SpdyStream, bytes: number): void {
    // Reopen a window once half of it has been consumed: few frames, and never a stall.
    const threshold = this.receiveWindow / 2;
    const streamBytes = (this.streamConsumed.get(stream.id) ?? 0) + bytes;
    if (streamBytes >= threshold && !stream.destroyed) {
      this.send({ type: 'WINDOW_UPDATE', streamId: stream.id, delta: streamBytes });
      this.streamConsumed.set(stream.id, 0);
    } else {
      this.streamConsumed.set(stream.id, streamBytes);
    }
    this.sessionConsumed += bytes;
    if (this.sessionConsumed >= threshold) {
      this.send({ type: 'WINDOW_UPDATE', streamId: 0, delta: this.sessionConsumed });
      this.sessionConsumed = 0;
    }
  }

  forget(stream: SpdyStream): void {
    this.streams.delete(stream.id);
    this.streamConsumed.delete(stream.id);
    this.endIfIdle();
  }
}
