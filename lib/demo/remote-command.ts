// kubectl exec and attach as the stand-in's pods answer them, whatever the transport (WebSocket
// v5 in exec-websocket.ts, SPDY/3.1 in exec-spdy.ts): the transport delivers stdin, its end and
// resizes, and carries stdout, stderr and the final Status.
//
// exec runs its command in the demo shell (shell/), which starts no process.
//
// attach joins the container's main process. The demo pod's containers run a console: `sh` on a
// terminal (the pod spec says stdin: true, tty: true, so kubectl asks for a TTY even when the
// user did not: it forces one for a container that has one).
// - With standard input (attach -it), the user gets that shell: prompt, line editing, Ctrl-C;
//   leaving it (exit, Ctrl-D) ends the attach.
// - Without (plain attach), the user watches the console's output: the lines `kubectl logs -f`
//   shows, one every stream interval, until the stream's time is up (1 s in tests, for ever in
//   the demo cluster) or the client leaves.
import { createExecSession } from './shell/exec-session.js';
import { podFileSystem } from './shell/fake-fs.js';
import { runExecCommand, shellCommands } from './shell/shell.js';
import type { StreamOptions } from './types.js';

export const STDOUT = 1;
export const STDERR = 2;

/** What a transport offers the command. */
export interface RemoteCommandChannels {
  /** Writes to stdout (1) or stderr (2); false when the client is slow and the writer should wait. */
  send(channel: number, data: string | Buffer): boolean;
  /** Resolves when the transport can take more output. */
  writable(): Promise<void>;
  /** Sends the final Status (as the v4/v5 error channel carries it) and closes. */
  finish(status: object): void;
}

export interface RemoteCommandRequest {
  kind: 'exec' | 'attach';
  query: URLSearchParams;
  pod: { name: string; namespace: string; ip: string };
  streams: StreamOptions;
}

/** The transport's side of a running command: what the client sends. */
export interface RemoteCommandInput {
  stdin(data: Buffer): void;
  stdinClosed(): void;
  resize(data: Buffer): void;
  hangUp(): void;
}

const flag = (query: URLSearchParams, name: string) => /^(true|1)$/.test(query.get(name) ?? '');

/** The options kubectl asked for: which streams exist. */
export function requestedStreams(query: URLSearchParams) {
  const tty = flag(query, 'tty');
  return { tty, stdin: flag(query, 'stdin'), stdout: flag(query, 'stdout'), stderr: flag(query, 'stderr') && !tty };
}

export function startRemoteCommand(request: RemoteCommandRequest, channels: RemoteCommandChannels): RemoteCommandInput {
  const { tty, stdin, stderr } = requestedStreams(request.query);
  let finished = false;
  const exec = createExecSession({
    tty,
    stderr,
    send: (channel, data) => void channels.send(channel, data),
    writable: () => channels.writable(),
  });
  // Without -i there is no standard input: a shell or cat reads its end at once, as on a kubelet.
  if (!stdin) exec.stdinClosed();
  const finish = (status: object) => {
    if (finished) return;
    finished = true;
    channels.finish(status);
  };
  const command = request.kind === 'exec' ? request.query.getAll('command') : ['sh'];
  const watchOnly = request.kind === 'attach' && !stdin;
  if (watchOnly) {
    attachOutput(request, channels, exec.session.closed).then(() => finish({ metadata: {}, status: 'Success' }));
  } else {
    const state = shellState(request.pod, tty);
    void runExecCommand(command, exec.session, state).then(
      (exitCode) => finish(exitStatus(command, exitCode)),
      (error: Error) => finish({ metadata: {}, status: 'Failure', message: error.message, reason: 'InternalError' }),
    );
  }
  return {
    stdin: (data) => exec.stdin(data),
    stdinClosed: () => exec.stdinClosed(),
    resize: (data) => exec.resize(data),
    hangUp: () => {
      finished = true;
      exec.hangUp();
    },
  };
}

/** The Status kubectl turns into its exit code (v4 and v5 alike). */
export function exitStatus(command: string[], exitCode: number): object {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

function shellState(pod: RemoteCommandRequest['pod'], tty: boolean) {
  const env = new Map([
    ['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    ['HOSTNAME', pod.name],
    ['HOME', '/root'],
    ...(tty ? [['TERM', 'xterm']] : []),
    ['KUBERNETES_SERVICE_HOST', '10.96.0.1'],
    ['KUBERNETES_SERVICE_PORT', '443'],
  ] as Array<[string, string]>);
  return { pod, fs: podFileSystem(pod, shellCommands), cwd: '/', env, status: 0, now: () => new Date() };
}

/** The main process's output without a terminal: a log line every interval until time is up. */
function attachOutput(request: RemoteCommandRequest, channels: RemoteCommandChannels, closed: AbortSignal): Promise<void> {
  const { intervalMs, durationMs } = request.streams;
  return new Promise((resolve) => {
    let n = 0;
    const timer = setInterval(() => channels.send(STDOUT, `${request.pod.name} log line ${++n}\n`), intervalMs);
    const done = () => {
      clearInterval(timer);
      clearTimeout(deadline);
      resolve();
    };
    const deadline = Number.isFinite(durationMs) ? setTimeout(done, durationMs) : undefined;
    closed.addEventListener('abort', done, { once: true });
  });
}
