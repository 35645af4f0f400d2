// exec and attach over SPDY/3.1, kubectl's fallback (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false or
// a refused WebSocket): a POST with Upgrade: SPDY/3.1 and the protocols kubectl offers in
// X-Stream-Protocol-Version (v5, v4, v3, v2, channel.k8s.io). The stand-in picks
// v4.channel.k8s.io, as a kubelet does: one SPDY stream per standard stream (headers
// streamType: error, stdin, stdout, stderr, resize), the Status as JSON on the error stream,
// stdin's end as the stream's FIN, resizes as a run of JSON objects.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { SpdySession, type SpdyStream } from '../spdy/index.js';
import type { UpgradeOutcome } from './exec-websocket.js';
import { type RemoteCommandRequest, STDERR, requestedStreams, startRemoteCommand } from './remote-command.js';
import { statusReply } from './replies.js';

export const SPDY_REMOTE_COMMAND_PROTOCOL = 'v4.channel.k8s.io';
/** How long the client has to open every stream it asked for, as a kubelet waits. */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

export function serveSpdyRemoteCommand(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  request: RemoteCommandRequest,
  outcome: UpgradeOutcome,
): void {
  const offered = (req.headers['x-stream-protocol-version'] ?? '')
    .toString()
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean);
  if (offered.length === 0)
    return outcome.refuse(statusReply(400, 'BadRequest', 'unable to upgrade: X-Stream-Protocol-Version is required'));
  if (!offered.includes(SPDY_REMOTE_COMMAND_PROTOCOL)) {
    const message = `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ["${SPDY_REMOTE_COMMAND_PROTOCOL}"]`;
    return outcome.refuse(
      { status: 403, body: Buffer.from(message), contentType: 'text/plain; charset=utf-8' },
      `X-Accepted-Stream-Protocol-Versions: ${SPDY_REMOTE_COMMAND_PROTOCOL}\r\n`,
    );
  }
  outcome.upgraded();
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${SPDY_REMOTE_COMMAND_PROTOCOL}\r\n\r\n`,
  );
  if (head.length > 0) socket.unshift(head);
  const session = new SpdySession(socket);
  const wanted = requestedStreams(request.query);
  const expected = new Set([
    'error',
    ...(['stdin', 'stdout', 'stderr'] as const).filter((name) => wanted[name]),
    ...(wanted.tty ? ['resize'] : []),
  ]);
  const streams = new Map<string, SpdyStream>();
  const timeout = setTimeout(() => session.close(), STREAM_CREATION_TIMEOUT_MS);
  session.on('close', () => clearTimeout(timeout));
  session.on('stream', (stream) => {
    const type = stream.headers.streamtype ?? '';
    if (!expected.has(type) || streams.has(type)) return stream.reset();
    streams.set(type, stream);
    if (streams.size === expected.size) {
      clearTimeout(timeout);
      run(session, streams, request);
    }
  });
}

function run(session: SpdySession, streams: Map<string, SpdyStream>, request: RemoteCommandRequest): void {
  const output = (channel: number) => streams.get(channel === STDERR ? 'stderr' : 'stdout');
  // kubectl writes nothing on these; reading them lets their FIN complete the stream.
  for (const name of ['error', 'stdout', 'stderr']) streams.get(name)?.resume();
  const command = startRemoteCommand(request, {
    send: (channel, data) => output(channel)?.write(data) ?? true,
    writable: () => {
      const waiting = [...streams.values()].filter((s) => s.writableNeedDrain);
      return Promise.all(waiting.map((s) => new Promise<void>((resolve) => (s.once('drain', resolve), s.once('close', resolve))))).then(
        () => undefined,
      );
    },
    finish: (status) => {
      // Output first, each to its FIN, then the Status on the error stream, then the session.
      const outputs = [streams.get('stdout'), streams.get('stderr')].filter((s): s is SpdyStream => !!s && !s.destroyed);
      Promise.all(outputs.map((s) => new Promise<void>((resolve) => (s.end(resolve), s.once('close', resolve))))).then(() => {
        const error = streams.get('error');
        if (!error || error.destroyed) return session.close();
        error.end(JSON.stringify(status), () => session.close());
      });
    },
  });
  const stdin = streams.get('stdin');
  stdin?.on('data', (chunk: Buffer) => command.stdin(chunk));
  stdin?.on('end', () => command.stdinClosed());
  const resize = streams.get('resize');
  if (resize) {
    const messages = jsonObjects((message) => command.resize(message));
    resize.on('data', messages);
  }
  session.on('close', () => command.hangUp());
}

/** Splits a byte stream of concatenated JSON objects (Go's json.Encoder output) into objects. */
function jsonObjects(onObject: (message: Buffer) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString();
    let depth = 0;
    let start = 0;
    for (let i = 0; i < pending.length; i++) {
      if (pending[i] === '{') depth++;
      else if (pending[i] === '}' && --depth === 0) {
        onObject(Buffer.from(pending.slice(start, i + 1).trim()));
        start = i + 1;
      }
    }
    pending = pending.slice(start);
  };
}
