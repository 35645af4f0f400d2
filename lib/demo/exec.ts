// kubectl exec over WebSocket (v5.channel.k8s.io), as the stand-in's pods answer it: binary
// frames whose first byte is the channel, a Status on channel 3, then close 1000. The upgrade
// is admitted and authorized like any request. Commands run in the demo shell (shell/), which
// starts no process: with -it a small interactive shell of built-ins, without one command.
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
import { createExecSession } from './shell/exec-session.js';
import { type FakeFs, podFiles } from './shell/fake-fs.js';
import { runExecCommand, shellCommands } from './shell/shell.js';

const PROTOCOL = 'v5.channel.k8s.io';
const STDIN = 0;
const STATUS = 3;
const RESIZE = 4;
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
    const pod = match && fixtures.pods.get(match[1]!)?.find((s) => s.object.metadata.name === match[2])?.object;
    if (!match || !pod) return refuse(pathNotFound);
    const attrs = { verb: 'get', group: '', resource: 'pods', subresource: 'exec', namespace: match[1]!, name: match[2]! };
    if (!allowed(user, attrs.namespace)) return refuse(forbidden(user.username, attrs));
    record.status = 101;
    const command = url.searchParams.getAll('command');
    wss.handleUpgrade(req, socket, head, (ws) => {
      // ws closes the connection itself (1002) on a protocol error; the listener keeps the error from being thrown.
      ws.on('error', () => ws.terminate());
      const podInfo = { name: match[2]!, namespace: match[1]!, ip: String(pod.status.podIP) };
      runCommand(ws, command, url.searchParams, podInfo, podFiles(fixtures.files, podInfo, shellCommands));
    });
  };
}

/** Runs the command in the demo shell over the exec's channels, then sends its exit status and closes. */
function runCommand(
  ws: WebSocket,
  command: string[],
  query: URLSearchParams,
  pod: { name: string; namespace: string; ip: string },
  fs: FakeFs,
): void {
  const flag = (name: string) => /^(true|1)$/.test(query.get(name) ?? '');
  const tty = flag('tty');
  const send = (channel: number, data: string | Buffer) => ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
  const exec = createExecSession({ tty, stderr: flag('stderr'), send });
  ws.on('message', (data: Buffer) => {
    if (data[0] === STDIN) exec.stdin(data.subarray(1));
    else if (data[0] === RESIZE) exec.resize(data.subarray(1));
    else if (data[0] === CLOSE_SIGNAL && data[1] === STDIN) exec.stdinClosed();
  });
  ws.on('close', () => exec.hangUp());
  // Without -i there is no standard input: a shell or cat reads its end at once, as on a kubelet.
  if (!flag('stdin')) exec.stdinClosed();
  const env = new Map([
    ['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    ['HOSTNAME', pod.name],
    ['HOME', '/root'],
    ...(tty ? [['TERM', 'xterm']] : []),
    ['KUBERNETES_SERVICE_HOST', '10.96.0.1'],
    ['KUBERNETES_SERVICE_PORT', '443'],
  ] as Array<[string, string]>);
  const state = { pod, fs, cwd: '/', env, status: 0, now: () => new Date() };
  void runExecCommand(command, exec.session, state).then(
    (exitCode) => finish(exitCode),
    (error: Error) => finish(1, error.message),
  );
  function finish(exitCode: number, failure?: string): void {
    if (ws.readyState !== ws.OPEN) return;
    const status =
      failure !== undefined
        ? { metadata: {}, status: 'Failure', message: failure, reason: 'InternalError' }
        : exitCode === 0
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
  }
}
