// A running `kubectl port-forward` and the connections a test makes through it: local ports
// chosen by kubectl (":REMOTE"), read from its "Forwarding from" lines; payloads sent through an
// echoing pod port and compared by checksum.
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';

export interface RunningPortForward {
  child: ChildProcess;
  /** Remote port -> the IPv4 local port kubectl listens on for it. */
  local: Map<number, number>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once kubectl has ended. */
  exited: Promise<number | null>;
  /** Ends kubectl (SIGINT, as Ctrl-C would) and waits for it. */
  stop(): Promise<number | null>;
}

/** Waits until kubectl forwards every one of `remotePorts` (or exits, which rejects). */
export function whenForwarding(child: ChildProcess, remotePorts: number[], timeoutMs = 20_000): Promise<RunningPortForward> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const local = new Map<number, number>();
  const running: RunningPortForward = {
    child,
    local,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void running.stop();
      reject(new Error(`kubectl port-forward did not forward ${remotePorts.join(', ')} in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    const check = () => {
      for (const m of stdout.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)) local.set(Number(m[2]), Number(m[1]));
      if (remotePorts.every((p) => local.has(p))) {
        clearTimeout(timer);
        resolve(running);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward exited with ${code}\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}

export interface EchoResult {
  sentSha256: string;
  receivedSha256: string;
  receivedBytes: number;
}

/**
 * Sends `bytes` random bytes to 127.0.0.1:`port` in chunks, half-closes, and reads everything
 * that comes back until the far end closes. Sending and receiving run at once, so an echo
 * larger than every buffer on the way still completes (backpressure, not deadlock).
 */
export function echoThrough(port: number, bytes: number, timeoutMs = 60_000): Promise<EchoResult> {
  const payload = randomBytes(bytes);
  const sent = createHash('sha256').update(payload).digest('hex');
  return new Promise((resolve, reject) => {
    const received = createHash('sha256');
    let count = 0;
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`echo through ${port}: ${count} of ${bytes} bytes back in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('data', (chunk: Buffer) => {
      count += chunk.length;
      received.update(chunk);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      resolve({ sentSha256: sent, receivedSha256: received.digest('hex'), receivedBytes: count });
    });
    socket.once('connect', () => {
      const CHUNK = 64 * 1024;
      let offset = 0;
      const writeMore = () => {
        while (offset < payload.length) {
          const ok = socket.write(payload.subarray(offset, offset + CHUNK));
          offset += CHUNK;
          if (!ok) return void socket.once('drain', writeMore);
        }
        socket.end();
      };
      writeMore();
    });
  });
}

/** Writes `request` to 127.0.0.1:`port` and returns everything read until the far end closes. */
export function exchange(port: number, request: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end from ${port} in ${timeoutMs} ms; got: ${text}`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}
