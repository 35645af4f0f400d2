// kubectl exec over WebSocket (v5.channel.k8s.io), as the stand-in's pods answer it: binary
// frames whose first byte is the channel, a Status on channel 3, then close 1000.
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const PROTOCOL = 'v5.channel.k8s.io';
const STDIN = 0;
const STDOUT = 1;
const STATUS = 3;
const CLOSE_SIGNAL = 255;

const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has(PROTOCOL) ? PROTOCOL : false) });

/** Runs a tiny command set: echo ARGS, cat (stdin back to stdout), exit N. */
export function serveExec(req: IncomingMessage, socket: Duplex, head: Buffer, command: string[]): void {
  wss.handleUpgrade(req, socket, head, (ws) => runCommand(ws, command));
}

function runCommand(ws: WebSocket, command: string[]): void {
  const send = (channel: number, data: string | Buffer) => ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
  const finish = (exitCode: number) => {
    const status =
      exitCode === 0
        ? { metadata: {}, status: 'Success' }
        : { metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] } };
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
  send(2, `${program ?? ''}: not found\n`);
  finish(127);
}
