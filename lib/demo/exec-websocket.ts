// exec and attach over WebSocket (v5.channel.k8s.io): binary frames whose first byte is the
// channel, a Status on channel 3, then close 1000. kubectl offers only v5.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { type RemoteCommandRequest, startRemoteCommand } from './remote-command.js';
import type { Reply } from './replies.js';

const PROTOCOL = 'v5.channel.k8s.io';
const STDIN = 0;
const STATUS = 3;
const RESIZE = 4;
const CLOSE_SIGNAL = 255;
/** Output the WebSocket has not yet written to its socket before a writer is asked to wait. */
const HIGH_WATER_BYTES = 1024 * 1024;

export interface UpgradeOutcome {
  refuse: (reply: Reply, extraHeaders?: string) => void;
  upgraded: () => void;
}

export function createWebSocketRemoteCommand() {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has(PROTOCOL) ? PROTOCOL : false) });
  wss.on('error', () => undefined); // noServer: never emitted today; listened to all the same

  return (req: IncomingMessage, socket: Duplex, head: Buffer, request: RemoteCommandRequest, outcome: UpgradeOutcome): void => {
    outcome.upgraded();
    wss.handleUpgrade(req, socket, head, (ws) => {
      // ws closes the connection itself (1002) on a protocol error; the listener keeps the error from being thrown.
      ws.on('error', () => ws.terminate());
      // Bytes handed to ws and not yet written to the socket: the writer waits above the mark.
      let inFlight = 0;
      let waiters: Array<() => void> = [];
      const written = (bytes: number) => {
        inFlight -= bytes;
        if (inFlight < HIGH_WATER_BYTES || ws.readyState !== ws.OPEN) for (const wake of waiters.splice(0)) wake();
      };
      const send = (channel: number, data: string | Buffer): boolean => {
        if (ws.readyState !== ws.OPEN) return true;
        const frame = Buffer.concat([Buffer.from([channel]), Buffer.from(data)]);
        inFlight += frame.length;
        ws.send(frame, () => written(frame.length));
        return inFlight < HIGH_WATER_BYTES;
      };
      const command = startRemoteCommand(request, {
        send,
        writable: () =>
          inFlight < HIGH_WATER_BYTES || ws.readyState !== ws.OPEN ? Promise.resolve() : new Promise((r) => waiters.push(r)),
        finish: (status) => {
          if (ws.readyState !== ws.OPEN) return;
          send(STATUS, JSON.stringify(status));
          ws.close(1000);
        },
      });
      ws.on('message', (data: Buffer) => {
        if (data[0] === STDIN) command.stdin(data.subarray(1));
        else if (data[0] === RESIZE) command.resize(data.subarray(1));
        else if (data[0] === CLOSE_SIGNAL && data[1] === STDIN) command.stdinClosed();
      });
      ws.on('close', () => {
        command.hangUp();
        for (const wake of waiters.splice(0)) wake();
        waiters = [];
      });
    });
  };
}
