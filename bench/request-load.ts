// The load generator of the request benches (agent-overhead.ts, agent-aws.ts): one GET at a time
// per worker over a keep-alive TLS pool, each timed with process.hrtime, every answer checked
// (a 200 whose body names web-0), and the CPU time per request of what the client talks to.
import https from 'node:https';

export const TOTAL = 2_000;
export const WARMUP = 200;
const REQUEST_TIMEOUT_MS = 10_000;

export interface Target {
  name: string;
  port: number;
  path: string;
  tls: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  headers: Record<string, string | string[]>;
  /** CPU time (µs) used so far by the process(es) the client talks to; undefined when unknown. */
  cpuMicros(): Promise<number | undefined>;
}

export interface Measurement {
  path: string;
  concurrency: number;
  p50: number;
  p99: number;
  rps: number;
  /** CPU µs per counted request of the process(es) the client talks to. */
  cpuPerRequest: number | undefined;
  failures: number;
  /** Failure reason → count. */
  reasons: Map<string, number>;
}

/** One GET; resolves with 'ok' or why it failed. */
function get(agent: https.Agent, target: Target): Promise<string> {
  return new Promise((resolve) => {
    const req = https.request(
      { agent, host: '127.0.0.1', port: target.port, path: target.path, method: 'GET', headers: target.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => resolve(`response: ${error.message}`));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          if (res.statusCode !== 200) resolve(`status ${res.statusCode}: ${body.toString('utf8', 0, 160).trim()}`);
          else if (!body.includes('web-0')) resolve('200 without web-0 in the body');
          else resolve('ok');
        });
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (error) => resolve(`request: ${error.message}`));
    req.end();
  });
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

async function drive(agent: https.Agent, target: Target, concurrency: number, count: number) {
  const latencies = new Float64Array(count);
  const reasons = new Map<string, number>();
  let failures = 0;
  let issued = 0;
  const worker = async () => {
    for (let i = issued++; i < count; i = issued++) {
      const start = process.hrtime.bigint();
      const outcome = await get(agent, target);
      latencies[i] = Number(process.hrtime.bigint() - start) / 1e6;
      if (outcome !== 'ok') {
        failures++;
        reasons.set(outcome, (reasons.get(outcome) ?? 0) + 1);
      }
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort();
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), rps: count / seconds, failures, reasons };
}

export async function measure(target: Target, concurrency: number, total = TOTAL): Promise<Measurement> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ...target.tls });
  try {
    const warm = await drive(agent, target, concurrency, WARMUP);
    const cpuBefore = await target.cpuMicros();
    const run = await drive(agent, target, concurrency, total);
    const cpuAfter = await target.cpuMicros();
    const cpuPerRequest = cpuBefore !== undefined && cpuAfter !== undefined ? (cpuAfter - cpuBefore) / total : undefined;
    for (const [reason, count] of warm.reasons) run.reasons.set(`(warm-up) ${reason}`, count);
    return { path: target.name, concurrency, ...run, cpuPerRequest, failures: run.failures + warm.failures };
  } finally {
    agent.destroy();
  }
}

export const ms = (value: number) => value.toFixed(2);
const pad = (text: string, width: number) => text.padStart(width);

/** One row per path and concurrency, with its p50 and throughput against the direct path's of the same concurrency. */
export function printTable(results: Measurement[], concurrencies: readonly number[], cpuNote: string): void {
  console.log('');
  console.log(
    `path     conc  ${pad('p50 ms', 7)} ${pad('p99 ms', 7)} ${pad('req/s', 7)} ${pad('cpu us', 7)} ${pad('fail', 5)}   vs direct (p50 +ms, rps ratio)`,
  );
  for (const concurrency of concurrencies) {
    const direct = results.find((r) => r.path === 'direct' && r.concurrency === concurrency);
    for (const r of results.filter((x) => x.concurrency === concurrency)) {
      const versus = direct && r !== direct ? `+${ms(r.p50 - direct.p50)} ms, ${(r.rps / direct.rps).toFixed(2)}`.replace('+-', '-') : '';
      console.log(
        `${r.path.padEnd(8)} ${pad(String(concurrency), 4)}  ${pad(ms(r.p50), 7)} ${pad(ms(r.p99), 7)} ${pad(r.rps.toFixed(0), 7)} ` +
          `${pad(r.cpuPerRequest === undefined ? '-' : r.cpuPerRequest.toFixed(0), 7)} ${pad(String(r.failures), 5)}   ${versus}`,
      );
    }
  }
  console.log(cpuNote);
}
