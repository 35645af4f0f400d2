// kubectl exec over WebSocket (v5.channel.k8s.io), as the stand-in's pods answer it: binary
// frames whose first byte is the channel, a Status on channel 3, then close 1000. The upgrade
// is admitted and authorized like any request.
//
// Every socket and WebSocket here has an error listener: a peer's protocol error (an unmasked
// frame, a reset) must end that one connection, never the process serving the cluster.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Admission } from './admission.js';
import type { Authorizer } from './authentication.js';
import type { Fixtures } from './fixtures.js';
import { type Reply, forbidden, pathNotFound } from './replies.js';

const PROTOCOL = 'v5.channel.k8s.io';
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE_SIGNAL = 255;
const EXEC_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/;

export function createExecUpgrade(admit: (req: IncomingMessage) => Admission, fixtures: Fixtures, allowed: Authorizer) {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has(PROTOCOL) ? PROTOCOL : false) });
  wss.on('error', () => undefined); // noServer: never emitted today; listened to all the same

  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // After an upgrade the HTTP server no longer listens for errors on the socket.
    socket.on('error', () => socket.destroy());
    const admission = admit(req);
    const { record } = admission;
    const refuse = (reply: Reply) => {
      record.status = reply.status;
      // Read on to the client's end, which completes the close; unread, the socket would stay half-open.
      socket.resume();
      socket.end(
        `HTTP/1.1 ${reply.status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${reply.body.length}\r\nConnection: close\r\n\r\n${reply.body.toString()}`,
      );
    };
    if ('reject' in admission) return refuse(admission.reject);
    const { user } = admission;
    const url = new URL(req.url ?? '/', 'https://stand-in');
    const match = EXEC_PATH.exec(url.pathname);
    if (!match || !fixtures.pods.get(match[1]!)?.some((s) => s.object.metadata.name === match[2])) return refuse(pathNotFound);
    const attrs = { verb: 'get', group: '', resource: 'pods', subresource: 'exec', namespace: match[1]!, name: match[2]! };
    if (!allowed(user, attrs.namespace)) return refuse(forbidden(user.username, attrs));
    record.status = 101;
    const command = url.searchParams.getAll('command');
    wss.handleUpgrade(req, socket, head, (ws) => {
      // ws closes the connection itself (1002) on a protocol error; the listener keeps the error from being thrown.
      ws.on('error', () => ws.terminate());
      runCommand(ws, command);
    });
  };
}

/** Runs a tiny command set: echo ARGS, cat (stdin back to stdout), exit N. */
function runCommand(ws: WebSocket, command: string[]): void {
  const send = (channel: number, data: string | Buffer) => ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
  const finish = (exitCode: number) => {
    const status =
      exitCode === 0
        ? { metadata: {}, status: 'Success' }
        : {
            metadata: {},
            status: 'Failure',
            message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
            reason: 'NonZeroExitCode',
            details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
          };
    send(STATUS, JSON.stringify(status));
    ws.close(1000);
  };
  const [program, ...args] = command;
  if (program === 'echo') {
    send(STDOUT, `${args.join(' ')}\n`);
    return finish(0);
  }
  if (program === 'exit') return finish(Number(args[0] ?? 0));
  if (program === 'cat') {
    ws.on('message', (data: Buffer) => {
      if (data[0] === STDIN) send(STDOUT, data.subarray(1));
      else if (data[0] === CLOSE_SIGNAL && data[1] === STDIN) finish(0);
    });
    return;
  }
  send(STDERR, `${program ?? ''}: not found\n`);
  finish(127);
}
