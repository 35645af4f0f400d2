// npm run bench, the stream figures of issue 7, each on the direct path, through the agent and
// through nginx in the same run (bench/kube-paths.ts):
//   1. exec throughput, WebSocket and SPDY (bench/exec-throughput.ts)
//   2. port-forward connection setup and throughput, WebSocket and SPDY (bench/port-forward-figures.ts)
//   3. idle watches through one process: count, RSS, KB per stream, one event's fan-out (bench/idle-watches.ts)
//   4. exec throughput through the agent with session recording on (to the embedded S3) vs off,
//      without a terminal (the session is only read) and with one (recorded as asciicast)
// The request-path figure (4) is bench/agent-overhead.ts.
//
// Knobs: BENCH_EXEC_MB (default 256), BENCH_PF_MB (default 64), BENCH_WATCHES (default 10,000,
// fewer when the file descriptor limit does not allow them), BENCH_ROUNDS (median of n, default 1),
// BENCH_ONLY=exec,portforward,watches,recording.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { makeS3Client } from '../lib/adapters/aws/clients.js';
import { startEmbeddedS3 } from '../lib/adapters/local/embedded-s3.js';
import { rawWebSocketExec, kubectlExec, type ExecResult } from './exec-throughput.js';
import { type FigureRow, printFigure, throughputAim, timeAim } from './figure-table.js';
import { idleWatches } from './idle-watches.js';
import { type KubePath, type PathName, startKubePaths } from './kube-paths.js';
import { echoSetupMs, echoThroughput, startPortForward } from './port-forward-figures.js';

const MB = 1_000_000;
const RECORDINGS_BUCKET = 'kubeport-recordings';
const EXEC_BYTES = Math.round(Number(process.env.BENCH_EXEC_MB ?? '256') * 1024 * 1024);
const PF_BYTES = Math.round(Number(process.env.BENCH_PF_MB ?? '64') * 1024 * 1024);
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? '1')) || 1);
const ONLY = process.env.BENCH_ONLY?.split(',');
const SETUP_SAMPLES = 21;
const WATCH_AIM = 10_000;
const WATCH_RSS_AIM_MB = 512;

/** Each watch costs the agent two descriptors (client and upstream); some are kept for everything else. */
function watchCount(): { count: number; bound?: string } {
  const wanted = Number(process.env.BENCH_WATCHES ?? WATCH_AIM);
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const soft = Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? 1024);
  const allowed = Math.floor((soft - 300) / 2);
  return allowed < wanted
    ? { count: allowed, bound: `open-file limit ${soft} (ulimit -n; the agent holds 2 per watch)` }
    : { count: wanted };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

type Values = Partial<Record<PathName, number>>;

async function execFigure(paths: KubePath[], cacheDir: string): Promise<FigureRow[]> {
  const ways: { what: string; run: (path: KubePath, bytes: number) => Promise<ExecResult> }[] = [
    { what: 'exec WebSocket, raw client', run: (p, n) => rawWebSocketExec(p, n, 120_000) },
    { what: 'exec WebSocket, kubectl', run: (p, n) => kubectlExec(p, 'websocket', n, 120_000, cacheDir) },
    { what: 'exec SPDY, kubectl', run: (p, n) => kubectlExec(p, 'spdy', n, 120_000, cacheDir) },
  ];
  // Primed once, not counted: no row pays for a cold JIT in the stand-in or the agent.
  for (const way of ways) for (const path of paths) await way.run(path, 8 * 1024 * 1024);
  const rows: FigureRow[] = [];
  for (const way of ways) {
    const rates = new Map<PathName, number[]>();
    const errors: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const path of paths) {
        const result = await way.run(path, EXEC_BYTES);
        if (result.error) errors.push(`${path.name}: ${result.error}`);
        else rates.set(path.name, [...(rates.get(path.name) ?? []), result.rate]);
      }
    }
    const values: Values = {};
    for (const [name, list] of rates) values[name] = median(list);
    rows.push({
      what: way.what,
      unit: 'MB/s',
      values,
      aim: throughputAim,
      ...(errors.length ? { note: `FAILED ${errors.slice(0, 3).join('; ')}` } : {}),
    });
  }
  return rows;
}

async function portForwardFigure(paths: KubePath[], cacheDir: string): Promise<FigureRow[]> {
  const rows: FigureRow[] = [];
  for (const transport of ['websocket', 'spdy'] as const) {
    const label = transport === 'websocket' ? 'WebSocket' : 'SPDY';
    const setup: Values = {};
    const rate: Values = {};
    const errors: string[] = [];
    for (const path of paths) {
      let forward;
      try {
        forward = await startPortForward(path, transport, cacheDir, 30_000);
        const times: number[] = [];
        for (let i = 0; i < SETUP_SAMPLES; i++) times.push(await echoSetupMs(forward.localPort, 10_000));
        setup[path.name] = median(times);
        const rates: number[] = [];
        for (let round = 0; round < ROUNDS; round++) rates.push((await echoThroughput(forward.localPort, PF_BYTES, 120_000)).rate);
        rate[path.name] = median(rates);
      } catch (error) {
        errors.push(`${path.name}: ${(error as Error).message.slice(0, 200)}`);
      } finally {
        forward?.stop();
      }
    }
    const note = errors.length ? { note: `FAILED ${errors.join('; ')}` } : {};
    rows.push({
      what: `port-forward ${label}, connection setup (median of ${SETUP_SAMPLES})`,
      unit: 'ms',
      values: setup,
      aim: timeAim,
      ...note,
    });
    rows.push({ what: `port-forward ${label}, echo throughput each way`, unit: 'MB/s', values: rate, aim: throughputAim });
  }
  return rows;
}

async function watchFigure(paths: KubePath[], direct: KubePath, count: number): Promise<FigureRow[]> {
  let made = 0;
  // A ConfigMap created on the direct path: its name is the marker every watch must see.
  const createConfigMap = async (arm: (marker: string) => void): Promise<boolean> => {
    const name = `bench-fan-out-${process.pid}-${++made}`;
    const body = JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'default' },
      data: { made: 'by the bench' },
    });
    arm(name);
    return new Promise((resolve) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: direct.port,
          path: '/api/v1/namespaces/default/configmaps',
          method: 'POST',
          ...direct.tls,
          headers: { ...direct.headers, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode === 201 || res.statusCode === 200);
        },
      );
      req.on('error', () => resolve(false));
      req.end(body);
    });
  };
  const opened: Values = {};
  const rss: Values = {};
  const perStream: Values = {};
  const fanOut: Values = {};
  const notes: string[] = [];
  for (const path of paths) {
    const result = await idleWatches(path, count, 64, createConfigMap, 30_000);
    opened[path.name] = result.opened;
    if (result.rssAfter !== undefined) rss[path.name] = result.rssAfter / 1024 / 1024;
    if (result.rssAfter !== undefined && result.rssBefore !== undefined && result.opened > 0)
      perStream[path.name] = (result.rssAfter - result.rssBefore) / 1024 / result.opened;
    if (result.fanOutMs !== undefined) fanOut[path.name] = result.fanOutMs;
    const reasons = [...result.reasons].slice(0, 3).map(([reason, n]) => `${n} x ${reason}`);
    notes.push(
      `${path.name}: ${result.opened} opened in ${result.openSeconds.toFixed(1)} s` +
        (result.openCpuMs !== undefined && result.opened > 0 ? ` (${(result.openCpuMs / result.opened).toFixed(2)} ms CPU each)` : '') +
        (result.failed ? `, ${result.failed} failed (${reasons.join('; ')})` : '') +
        (result.fanOutMs === undefined ? `, the change reached ${result.reached} of them` : '') +
        (result.heapAfter
          ? `, JS heap ${(result.heapAfter.heapUsed / 1024 / 1024).toFixed(0)} MB, external ${(result.heapAfter.external / 1024 / 1024).toFixed(0)} MB`
          : ''),
    );
  }
  const rssAim = {
    text: `${WATCH_AIM} under ${WATCH_RSS_AIM_MB} MB (RSS at ${WATCH_AIM}, per-stream cost extrapolated when fewer opened)`,
    met: (v: Values) => {
      const agentRss = v.agent;
      const kb = perStream.agent;
      const n = opened.agent;
      if (agentRss === undefined || kb === undefined || n === undefined) return undefined;
      return agentRss + (Math.max(0, WATCH_AIM - n) * kb) / 1024 < WATCH_RSS_AIM_MB;
    },
  };
  return [
    { what: 'idle watches open', unit: 'count', values: opened, note: notes.join('; ') },
    { what: 'RSS with them open', unit: 'MB', values: rss, aim: rssAim },
    { what: 'memory per stream', unit: 'KB', values: perStream },
    { what: 'one event reaches all', unit: 'ms', values: fanOut, aim: timeAim },
  ];
}

/** Exec throughput through the agent without recording and through one recording to S3; the ratio on/off. */
async function recordingFigure(off: KubePath, on: KubePath, s3: S3Client): Promise<number> {
  const ways = [
    { what: 'exec without a terminal (read, not recorded)', tty: false },
    { what: 'exec with a terminal (recorded)', tty: true },
  ];
  for (const way of ways) for (const path of [off, on]) await rawWebSocketExec(path, 8 * 1024 * 1024, 120_000, way.tty);
  console.log(
    `\n4. Exec throughput, recording off vs on: ${(EXEC_BYTES / MB).toFixed(0)} MB of stdout, raw WebSocket client, through the agent`,
  );
  let failed = 0;
  const rows: string[][] = [['', 'unit', 'off', 'on', 'on/off']];
  for (const way of ways) {
    const rates = { off: [] as number[], on: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, path] of [
        ['off', off],
        ['on', on],
      ] as const) {
        const result = await rawWebSocketExec(path, EXEC_BYTES, 300_000, way.tty);
        if (result.error) {
          failed++;
          console.log(`  ${way.what}, recording ${name}: FAILED ${result.error}`);
        } else rates[name].push(result.rate);
      }
    }
    const [a, b] = [median(rates.off), median(rates.on)];
    rows.push([way.what, 'MB/s', a.toFixed(0), b.toFixed(0), (b / a).toFixed(2)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  let objects = 0;
  let stored = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: RECORDINGS_BUCKET, ...(token ? { ContinuationToken: token } : {}) }));
    for (const item of page.Contents ?? []) {
      objects++;
      stored += item.Size ?? 0;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  console.log(
    `  recordings stored: ${objects} parts, ${(stored / MB).toFixed(0)} MB (output of zeros: each NUL byte is \\u0000 in asciicast JSON, 6 bytes)`,
  );
  return failed;
}

async function main(): Promise<number> {
  const started = Date.now();
  const dir = mkdtempSync(join(os.tmpdir(), 'kubeport-bench-streams-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const watches = watchCount();
  // Raised for this run only, so one user can hold every watch: the defaults cap a user at 64 streams and a source at 256 connections.
  const headroom = watches.count + 200;
  const agentLimits = {
    maxConnections: headroom,
    maxConnectionsPerSource: headroom,
    maxStreamsPerUser: headroom,
    streamConnectionsPerCluster: headroom,
  };
  const wantRecording = !ONLY || ONLY.includes('recording');
  const s3 = wantRecording ? await startEmbeddedS3({ dataDir: join(dir, 's3'), buckets: [RECORDINGS_BUCKET] }) : undefined;
  const kube = await startKubePaths(dir, {
    // Watches that stay open and quiet until the client leaves; changes still reach them.
    standIn: { streams: { intervalMs: 3_600_000, durationMs: -1 } },
    agentLimits,
    nginxMaxConnections: headroom,
    ...(s3 ? { recordings: { socketPath: s3.socketPath, bucket: RECORDINGS_BUCKET } } : {}),
  });
  let failed = 0;
  try {
    // BENCH_PATHS=agent,direct: only these paths (while developing; the figures want all three).
    const only = process.env.BENCH_PATHS?.split(',');
    const paths = only ? kube.paths.filter((p) => only.includes(p.name)) : kube.paths;
    console.log(
      `node ${process.version}, ${os.cpus().length} CPUs, ${kube.nginxVersion ?? 'no nginx'}; ` +
        `paths: ${paths.map((p) => p.name).join(', ')}${ROUNDS > 1 ? `; median of ${ROUNDS} rounds` : ''}`,
    );
    const cacheDir = join(dir, 'kube-cache');
    const want = (name: string) => !ONLY || ONLY.includes(name);
    if (want('exec')) {
      const rows = await execFigure(paths, cacheDir);
      failed += printFigure(`1. Exec throughput: ${(EXEC_BYTES / MB).toFixed(0)} MB of stdout (head -c ${EXEC_BYTES} /dev/zero)`, rows, [
        'kubectl rows: less the time of an exec of `true` on the same path (kubectl start, pod lookup)',
      ]).failed;
    }
    if (want('portforward')) {
      const rows = await portForwardFigure(paths, cacheDir);
      failed += printFigure(
        `2. Port-forward through kubectl to the demo pod's echo server (${(PF_BYTES / MB).toFixed(0)} MB each way)`,
        rows,
      ).failed;
    }
    if (want('watches')) {
      const direct = paths.find((p) => p.name === 'direct')!;
      const rows = await watchFigure(paths, direct, watches.count);
      failed += printFigure(`3. Idle watches through one process (${watches.count} asked)`, rows, [
        `agent limits raised for this run: ${Object.entries(agentLimits)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`,
        watches.bound ? `count bounded by the ${watches.bound}` : `count: ${watches.count} asked`,
        'RSS: of the agent, of nginx (master + worker), of the stand-in on the direct path; one event: a ConfigMap created, until its ADDED reached every watch',
      ]).failed;
    }
    if (want('recording') && kube.recordingAgent && s3) {
      const agent = kube.paths.find((p) => p.name === 'agent')!;
      const client = makeS3Client({ socketPath: s3.socketPath, region: 'local', forcePathStyle: true });
      try {
        failed += await recordingFigure(agent, kube.recordingAgent, client);
      } finally {
        client.destroy();
      }
    }
  } finally {
    await kube.stop();
    await s3?.close();
  }
  console.log(`\nstream figures took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  // A missed aim is a figure; a failed measurement (FAILED rows) is not one, and fails the bench.
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
