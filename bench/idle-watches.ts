// Idle streams: as many quiet watches (GET …/configmaps?watch=1, each on its own TLS connection) as the
// machine allows, opened through one path at a time, then one change that every watch must see.
// Reported per path: how many opened, the RSS the proxy process grew by (the stand-in's on the
// direct path), KB per stream, and the time from the change (a ConfigMap created on the direct path)
// until the last watch received its event.
import https from 'node:https';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { KubePath } from './kube-paths.js';

export interface IdleWatchResult {
  opened: number;
  failed: number;
  /** Failure reason → count (the first few kinds). */
  reasons: Map<string, number>;
  rssBefore?: number;
  rssAfter?: number;
  /** Node proxies: JS heap in use and external memory with the watches open. */
  heapAfter?: { heapUsed: number; external: number };
  /** ms from the change until every open watch saw it; undefined when the change did not reach them all. */
  fanOutMs?: number;
  /** How many watches saw the change (when not all did). */
  reached: number;
  openSeconds: number;
  /** CPU ms the proxy (the stand-in on direct) used while they opened. */
  openCpuMs?: number;
}

// ConfigMaps: the stand-in's stored kind whose watches see every write as it happens.
const WATCH = '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0';

/** Opens `count` watches, `parallel` at a time; calls `measure` while they are all open, then closes them. */
export async function idleWatches(
  path: KubePath,
  count: number,
  parallel: number,
  /** Makes one change every watch should see: calls `arm` with a marker its event holds, then makes it; false if it could not. */
  trigger: (arm: (marker: string) => void) => Promise<boolean>,
  fanOutTimeoutMs: number,
): Promise<IdleWatchResult> {
  // One TLS session cache for all: later handshakes resume, as a client reconnecting would.
  // One secure context for all: given key and certificates instead, each connection would parse them again.
  const secureContext = tls.createSecureContext(path.tls);
  const agent = new https.Agent({ secureContext, keepAlive: false, maxSockets: Infinity, maxCachedSessions: 10 });
  const open: IncomingMessage[] = [];
  // Armed once the change is made: each watch reports the first chunk holding its marker.
  let armed: { marker: string; pending: number; t0: bigint; done: (ms: number) => void } | undefined;
  const reasons = new Map<string, number>();
  let failed = 0;
  const fail = (reason: string) => {
    failed++;
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  };
  const rssBefore = await path.rss();
  const cpuBefore = await path.cpuMicros();
  const started = Date.now();
  let issued = 0;
  const openOne = () =>
    new Promise<void>((resolve) => {
      const req = https.request(
        { agent, host: '127.0.0.1', port: path.port, path: `${path.prefix}${WATCH}`, headers: path.headers, timeout: 60_000 },
        (res) => {
          if (res.statusCode !== 200) {
            fail(`status ${res.statusCode}`);
            res.resume();
            return resolve();
          }
          // The last bytes of the previous chunk are kept: a marker may straddle two chunks.
          let tail = '';
          let seen = false;
          res.on('data', (chunk: Buffer) => {
            const text = tail + chunk.toString('latin1');
            tail = text.slice(-256);
            if (!armed || seen || !text.includes(armed.marker)) return;
            seen = true;
            if (--armed.pending === 0) armed.done(Number(process.hrtime.bigint() - armed.t0) / 1e6);
          });
          res.on('error', () => undefined);
          open.push(res);
          resolve();
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
      req.on('error', (error) => {
        fail(`request: ${(error as NodeJS.ErrnoException).code ?? error.message}`);
        resolve();
      });
      req.end();
    });
  const worker = async () => {
    while (issued < count) {
      issued++;
      await openOne();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const openSeconds = (Date.now() - started) / 1000;
  const cpuAfter = await path.cpuMicros();
  const openCpuMs = cpuBefore !== undefined && cpuAfter !== undefined ? (cpuAfter - cpuBefore) / 1000 : undefined;
  // Let the proxy settle (buffers of the handshakes freed) before its memory is read.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const rssAfter = await path.rss();
  const heapAfter = await path.heap?.();

  let fanOutMs: number | undefined;
  let reached = 0;
  if (open.length > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, fanOutTimeoutMs);
      const done = (ms: number) => {
        fanOutMs = ms;
        clearTimeout(timer);
        resolve();
      };
      // The marker is known only once the change is made; a change names it first, then makes it.
      trigger((marker) => (armed = { marker, pending: open.length, t0: process.hrtime.bigint(), done })).then(
        (ok) => {
          if (!ok) {
            clearTimeout(timer);
            resolve();
          }
        },
        () => {
          clearTimeout(timer);
          resolve();
        },
      );
    });
    const current = armed as { pending: number } | undefined;
    reached = current ? open.length - current.pending : 0;
  }
  for (const res of open) res.destroy();
  agent.destroy();
  // The proxies close their upstream connections as the clients' go.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  return {
    opened: open.length,
    failed,
    reasons,
    ...(rssBefore !== undefined ? { rssBefore } : {}),
    ...(rssAfter !== undefined ? { rssAfter } : {}),
    ...(heapAfter ? { heapAfter } : {}),
    ...(fanOutMs !== undefined ? { fanOutMs } : {}),
    reached,
    openSeconds,
    ...(openCpuMs !== undefined ? { openCpuMs } : {}),
  };
}
