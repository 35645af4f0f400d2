// The kubelet's half of a port-forward session: kubectl opens two streams per forwarded
// connection, `error` then `data`, both with headers port and requestID. Once both of a request
// are there, the data stream is connected to what listens on that port inside the pod; when
// nothing does, the reason goes to the error stream as plain text (kubectl prints "an error
// occurred forwarding L -> R: <text>"). The error stream is ended when the forwarded connection
// is over: kubectl waits for that end before it closes its local connection.
import { type Duplex, finished } from 'node:stream';
import type { KubeObject } from './fixtures.js';
import { dialPod } from './pod-network.js';

/** A stream of the session as this file needs it: bytes both ways, its headers, and a reset. */
export interface ForwardStream extends Duplex {
  /** SYN_STREAM headers, names lower case as SPDY sends them. */
  readonly headers: Record<string, string>;
  /** Ends both directions at once (RST_STREAM). */
  reset(): void;
}

/** How long the second stream of a request may keep kubectl waiting (the kubelet's default). */
export const STREAM_PAIR_TIMEOUT_MS = 30_000;

interface PendingPair {
  error?: ForwardStream;
  data?: ForwardStream;
  timer: NodeJS.Timeout;
}

/** Returns what to call with each stream kubectl opens; `close()` forgets pairs still waiting. */
export function createStreamPairing(pod: KubeObject, timeoutMs = STREAM_PAIR_TIMEOUT_MS) {
  const pending = new Map<string, PendingPair>();

  const accept = (stream: ForwardStream): void => {
    stream.on('error', () => stream.destroy());
    const type = header(stream, 'streamtype');
    if (type !== 'error' && type !== 'data') return stream.reset();
    const requestId = header(stream, 'requestid');
    if (requestId === undefined) return stream.reset();
    let pair = pending.get(requestId);
    if (!pair) {
      const timer = setTimeout(() => expire(requestId), timeoutMs);
      pending.set(requestId, (pair = { timer }));
    }
    if (pair[type]) return stream.reset(); // a second stream of the same kind for one request
    pair[type] = stream;
    if (type === 'error') stream.resume(); // kubectl half-closes it at once: read to that end
    if (pair.error && pair.data) {
      clearTimeout(pair.timer);
      pending.delete(requestId);
      forward(pod, pair.error, pair.data);
    }
  };

  const expire = (requestId: string): void => {
    const pair = pending.get(requestId);
    if (!pair) return;
    pending.delete(requestId);
    pair.error?.end(`timed out waiting for the data stream of request ${requestId}`);
    pair.data?.reset();
  };

  const close = (): void => {
    for (const pair of pending.values()) clearTimeout(pair.timer);
    pending.clear();
  };

  return { accept, close };
}

/** A SYN_STREAM header by name; SPDY names are lower case, and a peer that capitalizes is forgiven. */
function header(stream: ForwardStream, name: string): string | undefined {
  if (name in stream.headers) return stream.headers[name];
  return Object.entries(stream.headers).find(([key]) => key.toLowerCase() === name)?.[1];
}

function forward(pod: KubeObject, errorStream: ForwardStream, dataStream: ForwardStream): void {
  const portHeader = header(dataStream, 'port') ?? '';
  const port = /^\d{1,5}$/.test(portHeader) ? Number(portHeader) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    errorStream.end(`invalid port header ${JSON.stringify(portHeader)}: a port from 1 to 65535 is needed`);
    dataStream.resume();
    dataStream.end();
    return;
  }
  const dialed = dialPod(pod, port);
  if ('refused' in dialed) {
    errorStream.end(dialed.refused);
    dataStream.resume(); // what kubectl already sent is dropped, as a closed socket would
    dataStream.end();
    return;
  }
  // Over when both directions are (or kubectl reset the stream): then the error stream ends, empty.
  finished(dataStream, () => errorStream.end());
  dialed.listener(dataStream);
}
