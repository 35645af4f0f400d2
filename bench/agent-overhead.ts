// What the agent costs: the same Kubernetes list request, 2,000 times over keep-alive TLS, at
// concurrency 1 and 32, on three paths measured in one run:
//
//   direct  client → API server stand-in
//   agent   client → Kubeport agent (mTLS with a Kubeport user certificate, authorize,
//           impersonation headers) → stand-in
//   local   client → the agent as `npm start` runs it (local mode: stores, caches, the auth API
//           in the same process; bench/local-mode-agent.ts) → stand-in; BENCH_LOCAL=0 leaves it out
//   nginx   client → nginx (TLS termination) → stand-in, as a yardstick for a plain proxy
//   audited the agent of the 'agent' row with its audit sink: one kube.request per request
//           through the real BufferedAuditWriter into an embedded DynamoDB on disk, which runs
//           in a process of its own as DynamoDB is a service of its own (BENCH_AUDIT=0 leaves it
//           out); compared with 'agent', the aim is within 10% (rps ratio and p50)
//
// The stand-in and the agent each run in a child process of their own, so the load generator
// (this process), the agent and the stand-in never share an event loop. nginx runs from a config
// in a temporary directory, bound to 127.0.0.1, with:
//   - worker_processes 1 (one worker, as the agent is one Node process; BENCH_NGINX_WORKERS
//     overrides, e.g. 'auto'),
//   - client certificates required and checked against the Kubeport user CA (the agent does the
//     same), the same host certificate as the agent,
//   - an upstream keep-alive pool (`keepalive` needs an upstream block, so proxy_pass names the
//     block that holds 127.0.0.1:<stand-in port>), proxy_http_version 1.1, Connection "",
//   - proxy_ssl_verify on against the stand-in CA (the agent verifies its upstream too), and the
//     stand-in's 'kubeport-agent' client certificate.
// The direct and nginx clients send the impersonation headers the agent adds for its user, so
// the stand-in does the same work on every path and the differences are the proxies' own.
//
// First every path is primed once with 1,000 requests at concurrency 8 (not counted), so the
// figures are those of warm processes, as a long-running agent is. Then each measurement: a fresh
// keep-alive client pool (maxSockets = concurrency), 200 warm-up requests (not counted; they also
// open the proxies' upstream connections), then 2,000 requests issued by `concurrency` workers
// back to back, each timed with process.hrtime. Every response must be a 200 whose body names
// web-0; anything else is counted and printed as a failure, and makes the bench exit non-zero.
//
// Besides latency and throughput, each row shows the CPU time per request of the process the
// client talks to (stand-in, agent or nginx), which moves much less from run to run than
// latency on a small shared machine.
//
// Knobs: BENCH_ROUNDS (median of n interleaved rounds), BENCH_NGINX_WORKERS, BENCH_PROFILE_DIR
// (V8 CPU profiles of the child processes), BENCH_PATHS (e.g. agent,audited: auditing on vs off only).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startAgentChild } from './agent-child.js';
import { type AuditStoreReady, type StandInReady, nextMessage, usageOf } from './ipc.js';
import { type LocalModeAgent, startLocalModeAgent } from './local-mode-agent.js';
import { NGINX_WORKERS, type Nginx, ensureNginx, startNginx } from './nginx.js';
import { CLUSTER, GROUPS, USER, benchCertificates } from './kube-paths.js';
import { startChild, stopProcess } from './processes.js';
import { type Measurement, type Target, TOTAL, WARMUP, measure, ms, printTable } from './request-load.js';

/** Once per path before any row, so that no row pays for a cold JIT (the agent's above all). */
const PRIMING = 1_000;
const CONCURRENCIES = [1, 32] as const;
/** Past this the bench stops everything it started and fails; a normal run needs a fraction. */
const DEADLINE_MS = 150_000;
/**
 * BENCH_ROUNDS=<n>: measure the whole table n times, interleaved, and print the median of each
 * figure (failures are added up). One round, the default, is the table as specified; on a busy
 * 2-core machine a single round moves by a tenth of a millisecond or more from run to run.
 */
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? '1')) || 1);
const AIM_P50_OVERHEAD_MS = 0.5;
/** BENCH_LOCAL=0: without the agent as npm start runs it (local mode), which takes a few seconds to start. */
const LOCAL_MODE = process.env.BENCH_LOCAL !== '0';
/** BENCH_PATHS=direct,local: measure only these paths (e.g. while profiling one of them). */
const ONLY_PATHS = process.env.BENCH_PATHS?.split(',');
/** BENCH_AUDIT=0: without the audited agent (and its store). */
const AUDITED = process.env.BENCH_AUDIT !== '0' && (!ONLY_PATHS || ONLY_PATHS.includes('audited'));
/** Auditing may cost the request path this much, in throughput and in median latency. */
const AIM_AUDIT_COST = 0.1;

const PODS_PATH = '/api/v1/namespaces/default/pods';
/** What the agent sends upstream for USER, sent by the direct and nginx clients themselves. */
const IMPERSONATION = { 'Impersonate-User': USER, 'Impersonate-Group': [...GROUPS, 'system:authenticated'] };

// ---------------------------------------------------------------------------------------------
// Report

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One row per path and concurrency, in first-measured order: medians of the figures, failures added up. */
function combineRounds(rounds: Measurement[]): Measurement[] {
  const rows = new Map<string, Measurement[]>();
  for (const m of rounds) {
    const key = `${m.path} ${m.concurrency}`;
    rows.set(key, [...(rows.get(key) ?? []), m]);
  }
  return [...rows.values()].map((same) => {
    const reasons = new Map<string, number>();
    for (const m of same) for (const [reason, count] of m.reasons) reasons.set(reason, (reasons.get(reason) ?? 0) + count);
    return {
      path: same[0]!.path,
      concurrency: same[0]!.concurrency,
      p50: median(same.map((m) => m.p50)),
      p99: median(same.map((m) => m.p99)),
      rps: median(same.map((m) => m.rps)),
      cpuPerRequest: same.every((m) => m.cpuPerRequest !== undefined) ? median(same.map((m) => m.cpuPerRequest!)) : undefined,
      failures: same.reduce((sum, m) => sum + m.failures, 0),
      reasons,
    };
  });
}

function verdict(results: Measurement[]): string {
  const find = (path: string, concurrency: number) => results.find((r) => r.path === path && r.concurrency === concurrency);
  const parts: string[] = [];
  const direct1 = find('direct', 1);
  // The bare agent, and the agent as npm start runs it (local mode): the figure is the latter.
  for (const name of ['agent', 'local']) {
    const agent1 = find(name, 1);
    if (!direct1 || !agent1) continue;
    const overhead = agent1.p50 - direct1.p50;
    parts.push(
      `${name} p50 overhead at concurrency 1 ${ms(overhead)} ms (aim < ${AIM_P50_OVERHEAD_MS} ms): ${overhead < AIM_P50_OVERHEAD_MS ? 'MET' : 'MISSED'}`,
    );
  }
  const direct32 = find('direct', 32);
  const nginx32 = find('nginx', 32);
  for (const name of ['agent', 'local']) {
    const agent32 = find(name, 32);
    if (!direct32 || !agent32 || !nginx32) continue;
    const agentRatio = agent32.rps / direct32.rps;
    const nginxRatio = nginx32.rps / direct32.rps;
    const cpu =
      agent32.cpuPerRequest !== undefined && nginx32.cpuPerRequest
        ? ` (CPU per request ${(agent32.cpuPerRequest / nginx32.cpuPerRequest).toFixed(1)} x nginx's)`
        : '';
    parts.push(
      `${name} rps ratio at concurrency 32 ${agentRatio.toFixed(2)} vs nginx ${nginxRatio.toFixed(2)}${cpu} (aim >= nginx): ${agentRatio >= nginxRatio ? 'MET' : 'MISSED'}`,
    );
  }
  if (!nginx32) {
    parts.push('rps ratio against nginx: NOT CHECKED (no nginx rows)');
  }
  for (const concurrency of CONCURRENCIES) {
    const off = find('agent', concurrency);
    const on = find('audited', concurrency);
    if (!off || !on) continue;
    const ratio = on.rps / off.rps;
    const p50Cost = (on.p50 - off.p50) / off.p50;
    const met = ratio >= 1 - AIM_AUDIT_COST && p50Cost <= AIM_AUDIT_COST;
    parts.push(
      `auditing on vs off at concurrency ${concurrency}: rps ratio ${ratio.toFixed(2)}, p50 ${on.p50 >= off.p50 ? '+' : ''}${ms(on.p50 - off.p50)} ms ` +
        `(${(p50Cost * 100).toFixed(0)}%) (aim within ${AIM_AUDIT_COST * 100}%): ${met ? 'MET' : 'MISSED'}`,
    );
  }
  return `verdict:\n  ${parts.join('\n  ')}`;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const nginxBin = ensureNginx();
  const benchStart = Date.now();
  const dir = mkdtempSync(join(os.tmpdir(), 'kubeport-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  let nginx: Nginx | undefined;
  const standIn = startChild('./stand-in-process.ts');
  let agentChild: ChildProcess | undefined;
  let auditedChild: ChildProcess | undefined;
  let auditStore: ChildProcess | undefined;
  let local: LocalModeAgent | undefined;
  const deadline = setTimeout(() => {
    console.error(`bench: not done after ${DEADLINE_MS / 1000} s; stopping everything`);
    process.exit(2);
  }, DEADLINE_MS);
  deadline.unref();
  try {
    const upstream = await nextMessage<StandInReady>(standIn, 'ready', 30_000);

    const { userCa, hostCa, userKey, userCert, hostTls } = await benchCertificates();

    const agentStart = {
      tls: hostTls,
      userCaPem: userCa.certPem,
      upstream: { url: upstream.url, caPem: upstream.caPem, client: upstream.agentClient },
    };
    const { child: agentProcess, port: agentPort } = await startAgentChild(agentStart, (child) => (agentChild = child));

    // The same agent with its audit sink, writing into a store on disk in a process of its own.
    let audited: { child: ChildProcess; port: number } | undefined;
    if (AUDITED) {
      auditStore = startChild('./audit-store-process.ts', [join(dir, 'audit-store')]);
      const store = await nextMessage<AuditStoreReady>(auditStore, 'ready', 30_000);
      audited = await startAgentChild(
        { ...agentStart, audit: { socketPath: store.socketPath, table: store.table, spoolDir: join(dir, 'audit-spool') } },
        (child) => (auditedChild = child),
      );
    }

    if (nginxBin) {
      try {
        nginx = await startNginx(nginxBin, dir, {
          server: hostTls,
          userCaPem: userCa.certPem,
          upstreamCaPem: upstream.caPem,
          upstreamClient: upstream.agentClient,
          upstreamPort: upstream.port,
        });
      } catch (error) {
        console.log(`nginx: ${error instanceof Error ? error.message : String(error)}; the nginx rows are skipped`);
      }
    }

    // The agent as npm start runs it, beside the bare one (BENCH_LOCAL=0 leaves it out).
    if (LOCAL_MODE)
      local = await startLocalModeAgent(
        dir,
        { url: upstream.url, caPem: upstream.caPem, client: upstream.agentClient },
        { name: USER, groups: GROUPS },
      );

    const asUser = { ca: hostCa.certPem, cert: userCert, key: userKey.keyPem };
    const targets: Target[] = [
      {
        name: 'direct',
        port: upstream.port,
        path: PODS_PATH,
        tls: { ca: upstream.caPem, cert: upstream.agentClient.certPem, key: upstream.agentClient.keyPem },
        headers: IMPERSONATION,
        cpuMicros: async () => (await usageOf(standIn)).cpuMicros,
      },
      {
        name: 'agent',
        port: agentPort,
        path: `/k8s/${CLUSTER}${PODS_PATH}`,
        tls: asUser,
        headers: {},
        cpuMicros: async () => (await usageOf(agentProcess)).cpuMicros,
      },
    ];
    if (audited) {
      const child = audited.child;
      targets.push({
        name: 'audited',
        port: audited.port,
        path: `/k8s/${CLUSTER}${PODS_PATH}`,
        tls: asUser,
        headers: {},
        cpuMicros: async () => (await usageOf(child)).cpuMicros,
      });
    }
    const localMode = local;
    if (localMode) {
      targets.push({
        name: 'local',
        port: localMode.port,
        path: `/k8s/${CLUSTER}${PODS_PATH}`,
        // Local mode hands its host CA to tsh, not to files this bench can read; keep-alive
        // connections make the client's check of it a one-off anyway.
        tls: { cert: localMode.user.certPem, key: localMode.user.keyPem, rejectUnauthorized: false },
        headers: {},
        cpuMicros: async () => localMode.cpuMicros(),
      });
    }
    const proxy = nginx;
    if (proxy) {
      targets.push({
        name: 'nginx',
        port: proxy.port,
        path: PODS_PATH,
        tls: asUser,
        headers: IMPERSONATION,
        cpuMicros: async () => proxy.cpuMicros(),
      });
    }

    if (ONLY_PATHS) targets.splice(0, targets.length, ...targets.filter((t) => ONLY_PATHS.includes(t.name)));
    const rssIdle = (await usageOf(agentProcess)).rss;
    const storeCpuBefore = auditStore ? (await usageOf(auditStore)).cpuMicros : 0;

    console.log(
      `node ${process.version}, ${os.cpus().length} CPUs; ${TOTAL} x GET ${PODS_PATH} per row after ${WARMUP} warm-up requests` +
        (ROUNDS > 1 ? `, median of ${ROUNDS} rounds; ` : '; ') +
        (nginx ? `${nginx.version}, worker_processes ${NGINX_WORKERS}, proxy_ssl_verify on, ssl_verify_client on` : 'no nginx'),
    );
    let failed = 0;
    for (const target of targets) {
      const primed = await measure(target, 8, PRIMING);
      failed += primed.failures;
      for (const [reason, count] of primed.reasons) console.log(`FAILURES ${target.name} priming: ${count} x ${reason}`);
    }
    const rounds: Measurement[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const concurrency of CONCURRENCIES) {
        for (const target of targets) rounds.push(await measure(target, concurrency));
      }
    }
    const results = combineRounds(rounds);
    const rssAfter = (await usageOf(agentProcess)).rss;

    printTable(
      results,
      CONCURRENCIES,
      'cpu us: CPU time (user + system) per request of what the client talks to: the stand-in (direct), the agent, nginx',
    );
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
    console.log(`\nagent process RSS: ${mib(rssAfter)} after the run (${mib(rssIdle)} before it)`);
    if (audited && targets.some((t) => t.name === 'audited'))
      failed += await reportAuditCounters(audited.child, auditStore!, storeCpuBefore);
    for (const r of results) {
      failed += r.failures;
      for (const [reason, count] of r.reasons) console.log(`FAILURES ${r.path} c=${r.concurrency}: ${count} x ${reason}`);
    }
    if (failed > 0)
      console.log(`verdict: none; ${failed} request(s) failed (FAILURES above), so the figures do not measure the paths as meant`);
    else console.log(verdict(results));
    console.log(`bench took ${((Date.now() - benchStart) / 1000).toFixed(1)} s`);
    return failed > 0 ? 1 : 0;
  } finally {
    clearTimeout(deadline);
    await Promise.all([
      nginx?.stop(),
      local?.stop(),
      agentChild ? stopProcess(agentChild, 'ipc') : undefined,
      // The audited agent flushes its writer as it stops: before its store goes.
      auditedChild ? stopProcess(auditedChild, 'ipc') : undefined,
      stopProcess(standIn, 'ipc'),
    ]);
    if (auditStore) await stopProcess(auditStore, 'ipc');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Every request the audited agent answered is one event: written, or still pending (in memory
 * or spooled), none dropped. Returns 1 when that does not hold.
 */
async function reportAuditCounters(child: ChildProcess, store: ChildProcess, storeCpuBefore: number): Promise<number> {
  // Priming and every measurement each start with their warm-up requests.
  const expected = WARMUP + PRIMING + ROUNDS * CONCURRENCIES.length * (WARMUP + TOTAL);
  // The writer's last batch waits for its flush interval.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const audit = (await usageOf(child)).audit;
  if (!audit) return 1;
  const accounted = audit.written + audit.pending;
  // On a 2-core machine the store's work competes with the agent's and the stand-in's; on AWS it is DynamoDB's.
  const storeCpu = ((await usageOf(store)).cpuMicros - storeCpuBefore) / expected;
  console.log(`audit store (embedded DynamoDB, its own process): ${storeCpu.toFixed(0)} us CPU per event`);
  console.log(
    `audited agent: ${expected} requests, events written ${audit.written}, pending ${audit.pending}, spooled ${audit.spooled}, dropped ${audit.dropped}` +
      (accounted === expected && audit.dropped === 0 ? ' (one event per request, none lost)' : ' (MISMATCH)'),
  );
  return accounted === expected && audit.dropped === 0 ? 0 : 1;
}

process.exitCode = await main();
