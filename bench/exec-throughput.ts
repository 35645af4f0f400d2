// Exec throughput: N bytes of stdout (`head -c N /dev/zero` in the stand-in's demo shell) through
// exec, on each path, two ways:
//   - the real kubectl, over WebSocket (its default) and over SPDY
//     (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false): what users run. Its output goes to `wc -c` through
//     a pipe, so the bench process does not copy it. kubectl's start and its pod lookup are no part
//     of the stream, so the time of an exec of `true` on the same path is subtracted.
//   - a lean raw WebSocket client (v5.channel.k8s.io on a TLS socket, bytes counted, frames not
//     parsed), so the ratio is not set by kubectl's own copying: kubectl uses most of a core here.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import type { KubePath } from './kube-paths.js';

const POD = 'web-0';

export interface ExecResult {
  bytes: number;
  seconds: number;
  /** MB/s (10^6 bytes per second). */
  rate: number;
  error?: string;
}

function execQuery(command: string[], tty = false): string {
  const query = new URLSearchParams();
  for (const part of command) query.append('command', part);
  query.set('stdout', 'true');
  // With a terminal there is no stderr (kubectl exec -t asks for none).
  if (tty) query.set('tty', 'true');
  else query.set('stderr', 'true');
  return query.toString();
}

/**
 * One exec over a raw WebSocket, as lean as a client gets: the upgrade written by hand on a TLS
 * socket, then every byte after the 101 counted as it arrives, without parsing frames (their
 * headers and the channel bytes are a few bytes in 16 KB). Done at the exec's Success Status
 * (channel 3), the last message before the server's Close.
 */
export function rawWebSocketExec(path: KubePath, bytes: number, timeoutMs: number, tty = false): Promise<ExecResult> {
  const target = `${path.prefix}/api/v1/namespaces/default/pods/${POD}/exec?${execQuery(['head', '-c', String(bytes), '/dev/zero'], tty)}`;
  const headers = Object.entries(path.headers).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map((v) => `${name}: ${v}\r\n`),
  );
  const request =
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${path.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
    `Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n${headers.join('')}\r\n`;
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    let head = '';
    let upgraded = false;
    let received = 0;
    let tail: Buffer = Buffer.alloc(0);
    const socket = tls.connect({ host: '127.0.0.1', port: path.port, ...path.tls, servername: 'localhost' }, () => socket.write(request));
    const finish = (error?: string) => {
      clearTimeout(timer);
      socket.destroy();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const ok = upgraded && tail.includes('"Success"');
      const reason =
        error ?? (ok ? undefined : `no Success Status after ${received} bytes: ${(head || tail.toString('latin1')).slice(0, 200)}`);
      resolve({ bytes: received, seconds, rate: received / 1e6 / seconds, ...(reason ? { error: reason } : {}) });
    };
    const timer = setTimeout(() => finish(`not done within ${timeoutMs} ms`), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      if (!upgraded) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!head.startsWith('HTTP/1.1 101')) return finish(`no upgrade: ${head.slice(0, 200)}`);
        upgraded = true;
        chunk = Buffer.from(head.slice(end + 4), 'latin1');
        head = '';
      }
      received += chunk.length;
      tail = chunk.length >= 512 ? chunk.subarray(chunk.length - 512) : Buffer.concat([tail, chunk]).subarray(-512);
      // The Status is the last message before the server's Close, whose answer this client does not send.
      if (tail.includes('"Success"')) finish();
    });
    socket.on('error', (error) => finish(error.message));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
  });
}

export interface KubectlRun {
  seconds: number;
  stdoutBytes: number;
  error?: string;
}

/** Runs kubectl with the path's kubeconfig; stdout goes through `wc -c` (counted, not copied here). */
export function kubectl(path: KubePath, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<KubectlRun> {
  const quoted = ['kubectl', '--kubeconfig', path.kubeconfig, ...path.kubectlFlags, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`);
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn('bash', ['-o', 'pipefail', '-c', `${quoted.join(' ')} | wc -c`], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const stdoutBytes = Number(out.trim()) || 0;
      const said = err.trim().split('\n').slice(-2).join(' | ');
      const error = signal ? `killed (${signal}) after ${timeoutMs} ms` : code !== 0 ? `exit ${code}: ${said}` : undefined;
      resolve({ seconds, stdoutBytes, ...(error ? { error } : {}) });
    });
  });
}

export const TRANSPORT_ENV = {
  websocket: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'true' },
  spdy: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' },
} as const;

/** kubectl exec of `head -c N /dev/zero`, less the time of an exec of `true` (kubectl's start and the pod lookup). */
export async function kubectlExec(
  path: KubePath,
  transport: keyof typeof TRANSPORT_ENV,
  bytes: number,
  timeoutMs: number,
  cacheDir: string,
): Promise<ExecResult> {
  const env = { ...TRANSPORT_ENV[transport], KUBECACHEDIR: cacheDir };
  const base = await kubectl(path, ['exec', POD, '--', 'true'], env, timeoutMs);
  const run = await kubectl(path, ['exec', POD, '--', 'head', '-c', String(bytes), '/dev/zero'], env, timeoutMs);
  const seconds = Math.max(run.seconds - (base.error ? 0 : base.seconds), 1e-3);
  const error = run.error ?? base.error ?? (run.stdoutBytes !== bytes ? `stdout had ${run.stdoutBytes} of ${bytes} bytes` : undefined);
  return { bytes: run.stdoutBytes, seconds, rate: run.stdoutBytes / 1e6 / seconds, ...(error ? { error } : {}) };
}
