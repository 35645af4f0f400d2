// Port-forward figures through the real kubectl (kubectl port-forward pod/web-0 :9000, the demo
// pod's echo server), over WebSocket (kubectl's default) and SPDY
// (KUBECTL_PORT_FORWARD_WEBSOCKETS=false):
//   - connection setup: a new TCP connection to kubectl's local port until the first byte comes
//     back echoed, each a new stream pair through the tunnel (median of several, one at a time);
//   - throughput: N bytes written on one connection and read back echoed, both ways at once
//     (MB/s of payload each way).
// kubectl is the client here: a raw client of the port-forward tunnel would have to carry both
// framings; kubectl's copying costs every path the same.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import type { KubePath } from './kube-paths.js';
import { track } from './processes.js';

const POD = 'web-0';
const ECHO_PORT = 9000;

export const PORT_FORWARD_ENV = {
  websocket: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'true' },
  spdy: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' },
} as const;

export interface PortForward {
  localPort: number;
  /** From kubectl's start to its "Forwarding from" line. */
  readySeconds: number;
  stop(): void;
}

export function startPortForward(
  path: KubePath,
  transport: keyof typeof PORT_FORWARD_ENV,
  cacheDir: string,
  timeoutMs: number,
): Promise<PortForward> {
  const args = ['--kubeconfig', path.kubeconfig, ...path.kubectlFlags, 'port-forward', `pod/${POD}`, `:${ECHO_PORT}`];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child: ChildProcess = spawn('kubectl', args, {
      env: { ...process.env, ...PORT_FORWARD_ENV[transport], KUBECACHEDIR: cacheDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child, 'SIGKILL');
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kubectl port-forward not ready within ${timeoutMs} ms: ${output.trim().slice(-300)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      const readySeconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ localPort: Number(match[1]), readySeconds, stop: () => child.kill('SIGTERM') });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward exited (${code}): ${output.trim().slice(-300)}`));
    });
  });
}

/** Connect, send one byte, wait for it to come back: ms. */
export function echoSetupMs(port: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no echo within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => socket.write('x'));
    socket.once('data', () => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      socket.destroy();
      resolve(ms);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Writes `bytes` on one connection and reads them back echoed: MB/s of payload each way. */
export function echoThroughput(port: number, bytes: number, timeoutMs: number): Promise<{ rate: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const socket = net.connect(port, '127.0.0.1');
    let started = 0n;
    let received = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`only ${received} of ${bytes} bytes echoed within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      started = process.hrtime.bigint();
      let sent = 0;
      const pump = () => {
        while (sent < bytes) {
          const piece = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
          sent += piece.length;
          if (!socket.write(piece)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    socket.on('data', (data: Buffer) => {
      received += data.length;
      if (received < bytes) return;
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      socket.destroy();
      resolve({ rate: bytes / 1e6 / seconds, seconds });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
