// kubectl port-forward, as the stand-in's pods answer it: not served yet, so kubectl is told so.
/* eslint-disable @typescript-eslint/no-unused-vars -- a stub until port-forward is served */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Admission } from './admission.js';
import type { Authorizer } from './authentication.js';
import type { Fixtures } from './fixtures.js';

export function createPortForwardUpgrade(_admit: (req: IncomingMessage) => Admission, _fixtures: Fixtures, _allowed: Authorizer) {
  return (_req: IncomingMessage, socket: Duplex, _head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'port-forward is not served',
      reason: 'NotFound',
      code: 404,
    });
    socket.resume();
    socket.end(
      `HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  };
}
