// The SPDY/3.1 session of one port-forward, over the raw socket or inside the WebSocket tunnel.
// Placeholder until lib/spdy (the shared framing) is merged: the session ends at once.
import type { Duplex } from 'node:stream';
import type { KubeObject } from './fixtures.js';

export function servePortForward(transport: Duplex, pod: KubeObject): void {
  void pod;
  transport.destroy();
}
