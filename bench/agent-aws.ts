// The agent as the Fargate task runs it (`npm run agent` in AWS mode: agent/main.ts through
// lib/app/agent-aws.ts), in a process of its own against the loopback stand-ins of
// test/support/agent-process.ts (DynamoDB, S3, STS, EKS, Route 53, the IAM-authorized API with the
// auth function that issues its host certificate), serving an EKS-like cluster that takes bearer
// tokens only as EKS does (test/support/eks-kube-cluster.ts). Measured in one run:
//
//   1. the same Kubernetes list (GET /api/v1/namespaces/default/pods), 2,000 times over keep-alive
//      TLS after warm-up, at concurrency 1 and 32, on three paths:
//        agent   client (a Kubeport user certificate) → agent (EKS token from the task role's
//                credentials, DescribeCluster cached, impersonation headers) → cluster
//        direct  client → cluster, with a valid EKS token of the task role and the impersonation
//                headers the agent adds for the user
//        nginx   client → nginx (bench/nginx.ts: TLS termination, client certificates required)
//                → cluster; the client sends the token and impersonation headers itself
//      with p50/p99, req/s and the CPU time per request of the agent process (and nginx's);
//   2. the agent process's memory from /proc/PID/status (VmRSS, VmHWM): idle after start, after
//      the load, with 200 idle watches held open, against the Fargate task's memory;
//   3. start-up: from spawn to GET /healthz answering 200, the median of 3 starts.
//
// The stand-ins and the cluster run in a child process of their own (aws-stand-ins-process.ts), the
// agent in another, nginx in its own, so the load generator (this process) shares an event loop
// with none of them. The direct row's CPU is that child's (the cluster, and STS, DynamoDB and the
// rest idling beside it); the agent row's is the agent process's alone: the stand-ins' work for it
// (the audit events it writes to DynamoDB) is AWS's on Fargate. No assertion is made on any time;
// a failed request fails the run.
import https from 'node:https';
import os from 'node:os';
import { AGENT_MEMORY_MIB } from '../lib/infra/agent-service.js';
import { type AgentProcess, startAgentProcess } from '../test/support/agent-process.js';
import type { AwsStandInsReady, AwsStandInsStart } from './aws-stand-ins-process.js';
import { idleWatches } from './idle-watches.js';
import { nextMessage, usageOf } from './ipc.js';
import { benchCertificates } from './kube-paths.js';
import { type Nginx, ensureNginx, startNginx } from './nginx.js';
import { processMemory, processTreeCpuMicros, startChild, stopProcess, track } from './processes.js';
import { type Measurement, type Target, TOTAL, WARMUP, measure, ms, printTable } from './request-load.js';
import { percentile } from './statistics.js';

const CONCURRENCIES = [1, 32] as const;
/** Once per path before any row, so that no row pays for a cold JIT. */
const PRIMING = 1_000;
const STARTS = 3;
const WATCHES = 200;
/** Users holding the watches: the agent allows each 64 streams at a time (agent/server.ts). */
const WATCHERS = 4;
const DEADLINE_MS = 150_000;
const CLUSTER = 'dev';
const USER = 'alice';
const GROUPS = ['developers'];
const PODS_PATH = '/api/v1/namespaces/default/pods';

const mib = (bytes: number | undefined) => (bytes === undefined ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);
const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** GET /healthz until it answers 200 (the load balancer's check); fails after `timeoutMs`. */
async function untilHealthy(agent: AgentProcess, caPem: string, timeoutMs: number): Promise<void> {
  const [host, port] = agent.address.split(':');
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = await new Promise<number>((resolve) => {
      https
        .get({ host, port: Number(port), path: '/healthz', ca: caPem, servername: 'localhost', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', () => resolve(0));
    });
    if (status === 200) return;
    if (Date.now() > until) throw new Error(`the agent's /healthz did not answer 200 within ${timeoutMs} ms\n${agent.output()}`);
    await sleep(20);
  }
}

async function main(): Promise<number> {
  const benchStart = Date.now();
  const deadline = setTimeout(() => {
    console.error(`bench: not done after ${DEADLINE_MS / 1000} s; stopping everything`);
    process.exit(2);
  }, DEADLINE_MS);
  deadline.unref();
  const nginxBin = ensureNginx();
  const watchers = Array.from({ length: WATCHERS }, (_, i) => `watcher-${i}`);
  const standIns = startChild('./aws-stand-ins-process.ts', [
    JSON.stringify({ cluster: CLUSTER, users: [USER, ...watchers], groups: GROUPS } satisfies AwsStandInsStart),
  ]);
  const agents: AgentProcess[] = [];
  let nginx: Nginx | undefined;
  try {
    const aws = await nextMessage<AwsStandInsReady>(standIns, 'ready', 60_000);
    const { env, cluster } = aws;
    const user = aws.users[USER]!;

    // 3. Start-up, one agent after the other; the last one stays for the rest.
    const startMs: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      if (agents.length > 0) await agents.at(-1)!.stop('SIGKILL');
      const t0 = process.hrtime.bigint();
      const agent = await startAgentProcess(env);
      track(agent.child, 'SIGKILL');
      agents.push(agent);
      await untilHealthy(agent, aws.hostCaPem, 30_000);
      startMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const agent = agents.at(-1)!;
    const pid = agent.child.pid!;
    const agentPort = Number(agent.address.split(':')[1]);
    await sleep(1_000);
    const idle = processMemory(pid);

    // 1. Throughput and latency.
    const impersonation = { 'Impersonate-User': USER, 'Impersonate-Group': [...GROUPS, 'system:authenticated'] };
    const asCluster = { authorization: `Bearer ${aws.token}`, ...impersonation };
    const asUser = { ca: aws.hostCaPem, cert: user.certPem, key: user.keyPem };
    const targets: Target[] = [
      {
        name: 'direct',
        port: cluster.port,
        path: PODS_PATH,
        tls: { ca: cluster.caPem },
        headers: asCluster,
        cpuMicros: async () => (await usageOf(standIns)).cpuMicros,
      },
      {
        name: 'agent',
        port: agentPort,
        path: `/k8s/${CLUSTER}${PODS_PATH}`,
        tls: asUser,
        headers: {},
        cpuMicros: async () => processTreeCpuMicros(pid),
      },
    ];
    if (nginxBin) {
      // nginx has a CA pair of its own: the agent's host key stays in the agent.
      const pems = await benchCertificates();
      try {
        nginx = await startNginx(nginxBin, aws.dir, {
          server: pems.hostTls,
          userCaPem: pems.userCa.certPem,
          upstreamCaPem: cluster.caPem,
          // Not of the cluster's CA, so the cluster authenticates the bearer token, as for the agent.
          upstreamClient: { certPem: pems.userCert, keyPem: pems.userKey.keyPem },
          upstreamPort: cluster.port,
        });
        const proxy = nginx;
        targets.push({
          name: 'nginx',
          port: proxy.port,
          path: PODS_PATH,
          tls: { ca: pems.hostCa.certPem, cert: pems.userCert, key: pems.userKey.keyPem },
          headers: asCluster,
          cpuMicros: async () => proxy.cpuMicros(),
        });
      } catch (error) {
        console.log(`nginx: ${error instanceof Error ? error.message : String(error)}; the nginx rows are skipped`);
      }
    }

    console.log(
      `node ${process.version}, ${os.cpus().length} CPUs, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; ${TOTAL} x GET ${PODS_PATH} per row after ${WARMUP} warm-up requests; ${nginx ? nginx.version : 'no nginx'}`,
    );
    let failed = 0;
    const report = (what: string, reasons: Map<string, number>) => {
      for (const [reason, count] of reasons) console.log(`FAILURES ${what}: ${count} x ${reason}`);
    };
    for (const target of targets) {
      const primed = await measure(target, 8, PRIMING);
      failed += primed.failures;
      report(`${target.name} priming`, primed.reasons);
    }
    const results: Measurement[] = [];
    // What the agent's requests cost the stand-ins (the cluster, and the audit events the agent
    // writes to DynamoDB, which is AWS's work on Fargate), warm-up requests included.
    const standInsPerAgentRequest: string[] = [];
    for (const concurrency of CONCURRENCIES) {
      for (const target of targets) {
        const before = target.name === 'agent' ? (await usageOf(standIns)).cpuMicros : 0;
        results.push(await measure(target, concurrency));
        if (target.name !== 'agent') continue;
        const perRequest = ((await usageOf(standIns)).cpuMicros - before) / (TOTAL + WARMUP);
        standInsPerAgentRequest.push(`${perRequest.toFixed(0)} us at concurrency ${concurrency}`);
      }
    }
    await sleep(1_000);
    const afterLoad = processMemory(pid);

    // 2. Idle watches, each on a connection of its own. The agent allows a user 64 streams, so
    // WATCHERS users hold a share each; each share is opened while the ones before it are held
    // (idleWatches makes its change with all its watches open), and the innermost reads the memory.
    let withWatches: { rss: number; hwm: number } | undefined;
    let watchesFailed = 0;
    let opened = 0;
    const reasons = new Map<string, number>();
    const hold = async (i: number): Promise<boolean> => {
      if (i === watchers.length) {
        withWatches = processMemory(pid);
        return false;
      }
      const result = await idleWatches(
        {
          name: 'agent',
          port: agentPort,
          prefix: `/k8s/${CLUSTER}`,
          tls: { ca: aws.hostCaPem, cert: aws.users[watchers[i]!]!.certPem, key: aws.users[watchers[i]!]!.keyPem },
          headers: {},
          kubeconfig: '',
          kubectlFlags: [],
          cpuMicros: async () => processTreeCpuMicros(pid),
          rss: async () => processMemory(pid)?.rss,
        },
        WATCHES / WATCHERS,
        WATCHES / WATCHERS,
        // No change is made: the figure is memory, not fan-out; the next share opens instead.
        () => hold(i + 1),
        60_000,
      );
      opened += result.opened;
      watchesFailed += result.failed;
      for (const [reason, count] of result.reasons) reasons.set(reason, (reasons.get(reason) ?? 0) + count);
      return false;
    };
    const watchesStarted = Date.now();
    await hold(0);
    const watchSeconds = (Date.now() - watchesStarted) / 1000;
    const afterWatches = processMemory(pid);

    printTable(
      results,
      CONCURRENCIES,
      'cpu us: CPU time (user + system) per request of the stand-ins process (direct), the agent process, nginx (master and worker)',
    );
    console.log(
      `stand-ins process CPU per agent request (the cluster's answer, the agent's audit PutItem into the embedded DynamoDB): ${standInsPerAgentRequest.join(', ')}`,
    );
    console.log(
      `\nagent process memory (/proc/${pid}/status; the Fargate task has ${AGENT_MEMORY_MIB} MiB):\n` +
        `  idle after start      VmRSS ${mib(idle?.rss)}\n` +
        `  after the load        VmRSS ${mib(afterLoad?.rss)}\n` +
        `  ${WATCHES} idle watches     VmRSS ${mib(withWatches?.rss)} (${opened} open, ${WATCHERS} users; ${watchSeconds.toFixed(1)} s to open and close` +
        (withWatches && afterLoad && opened > 0
          ? `; ${((withWatches.rss - afterLoad.rss) / 1024 / opened).toFixed(0)} KiB each over the last line`
          : '') +
        ')\n' +
        `  after they closed     VmRSS ${mib(afterWatches?.rss)}\n` +
        `  peak (VmHWM)          ${mib(afterWatches?.hwm)}` +
        (afterWatches ? ` = ${((afterWatches.hwm / (AGENT_MEMORY_MIB * 1024 * 1024)) * 100).toFixed(0)}% of the task's memory` : ''),
    );
    failed += watchesFailed;
    report('idle watches', reasons);
    console.log(
      `\nstart-up, spawn to /healthz 200: median ${ms(percentile(startMs, 50))} ms of ${STARTS} (${startMs.map((t) => t.toFixed(0)).join(', ')} ms)`,
    );
    for (const r of results) {
      failed += r.failures;
      report(`${r.path} c=${r.concurrency}`, r.reasons);
    }
    if (failed > 0) console.log(`${failed} request(s) failed (FAILURES above), so the figures do not measure the paths as meant`);
    console.log(`bench took ${((Date.now() - benchStart) / 1000).toFixed(1)} s`);
    return failed > 0 ? 1 : 0;
  } finally {
    clearTimeout(deadline);
    await nginx?.stop();
    for (const agent of agents) await agent.stop('SIGKILL');
    await stopProcess(standIns, 'ipc');
  }
}

process.exitCode = await main();
