// The SPDY/3.1 session of one port-forward, over the socket after the SPDY 101 or over the byte
// stream inside the WebSocket tunnel: every stream kubectl opens goes to the pairing of error
// and data streams (port-forward-streams.ts). Framing, PINGs and flow control are lib/spdy's.
import type { Duplex } from 'node:stream';
import { SpdySession } from '../spdy/index.js';
import type { KubeObject } from './fixtures.js';
import { createStreamPairing } from './port-forward-streams.js';

export function servePortForward(transport: Duplex, pod: KubeObject): SpdySession {
  const session = new SpdySession(transport);
  const pairing = createStreamPairing(pod);
  session.on('stream', (stream) => pairing.accept(stream));
  session.on('close', () => pairing.close());
  return session;
}
