// Exec throughput: N bytes of stdout (`head -c N /dev/zero` in the stand-in's demo shell) through
// exec, on each path, two ways:
//   - the real kubectl, over WebSocket (its default) and over SPDY
//     (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false): what users run. Its output goes to `wc -c` through
//     a pipe, so the bench process does not copy it. kubectl's start and its pod lookup are no part
//     of the stream, so the time of an exec of `true` on the same path is subtracted.
//   - a lean raw WebSocket client (v5.channel.k8s.io, the ws library), so the ratio is not set by
//     kubectl's own copying: kubectl uses a full core on this machine at these rates.
import { spawn } from 'node:child_process';
import { WebSocket } from 'ws';
import type { KubePath } from './kube-paths.js';

const POD = 'web-0';

export interface ExecResult {
  bytes: number;
  seconds: number;
  /** MB/s (10^6 bytes per second). */
  rate: number;
  error?: string;
}

function execQuery(command: string[]): string {
  const query = new URLSearchParams();
  for (const part of command) query.append('command', part);
  query.set('stdout', 'true');
  query.set('stderr', 'true');
  return query.toString();
}

/** One exec over a raw WebSocket: counts stdout bytes (channel 1) until the close. */
export function rawWebSocketExec(path: KubePath, bytes: number, timeoutMs: number): Promise<ExecResult> {
  const url = `wss://127.0.0.1:${path.port}${path.prefix}/api/v1/namespaces/default/pods/${POD}/exec?${execQuery(['head', '-c', String(bytes), '/dev/zero'])}`;
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    let received = 0;
    let status = '';
    const ws = new WebSocket(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], {
      ...path.tls,
      headers: path.headers as Record<string, string>,
      perMessageDeflate: false,
      maxPayload: 64 * 1024 * 1024,
    });
    const finish = (error?: string) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const wrong = received !== bytes ? `received ${received} of ${bytes} bytes${status ? ` (status ${status})` : ''}` : undefined;
      const reason = error ?? wrong;
      resolve({ bytes: received, seconds, rate: received / 1e6 / seconds, ...(reason ? { error: reason } : {}) });
    };
    const timer = setTimeout(() => {
      ws.terminate();
      finish(`not done within ${timeoutMs} ms`);
    }, timeoutMs);
    ws.on('message', (data: Buffer) => {
      if (data[0] === 1) received += data.length - 1;
      else if (data[0] === 3) status = data.subarray(1).toString().slice(0, 200);
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => finish(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
    });
    ws.on('error', (error) => finish(error.message));
    ws.on('close', () => finish());
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
