// GitHub browser login, server side: POST /webapi/github/login/console, then
// GET /webapi/github/callback (code exchange, /user, /user/teams, user upsert, certificate from the
// local signer, sealing), over real HTTP on loopback against the auth API with embedded DynamoDB.
// GitHub is the stand-in on loopback, answering at once, so the figures are Kubeport's own time
// (plus the stand-in's few hundred microseconds). The browser's visit to GitHub's authorize page
// happens between the two requests and is not counted.
//
// 30 warm-up logins (not counted), then 300 timed ones, one at a time. Each must end in a
// redirect to tsh's listener carrying response=; anything else fails the bench.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { startGitHubHarness } from '../test/support/github-harness.js';

const WARMUP = 30;
const TOTAL = 300;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function main(): Promise<void> {
  const g = await startGitHubHarness();
  try {
    g.github.addUser({ id: 1, login: 'bench', teams: [{ organization: 'acme', slug: 'platform' }] });
    g.github.signedIn = 1;
    let cpuMicros = 0;
    const consoleMs: number[] = [];
    const callbackMs: number[] = [];
    for (let i = 0; i < WARMUP + TOTAL; i++) {
      // The API limits login starts per address (30 a minute); the bench moves the harness clock
      // on so that every login is measured, not the refusal. Untimed.
      if (i % 25 === 0) g.h.clock.advance(61_000);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const started = await g.startConsole();
      const t1 = performance.now();
      const authorize = await fetch(started.authorizeUrl, { redirect: 'manual' });
      const callbackUrl = authorize.headers.get('location')!;
      const t2 = performance.now();
      const callback = await fetch(callbackUrl, { redirect: 'manual' });
      const page = await callback.text();
      const t3 = performance.now();
      if (callback.status !== 200 || !page.includes('response=')) throw new Error(`login ${i} failed: ${callback.status} ${page}`);
      if (i >= WARMUP) {
        const cpu = process.cpuUsage(cpu0);
        cpuMicros += cpu.user + cpu.system;
        consoleMs.push(t1 - t0);
        callbackMs.push(t3 - t2);
      }
    }
    const totals = consoleMs.map((ms, i) => ms + callbackMs[i]!);
    const row = (name: string, values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return `${name.padEnd(20)} p50 ${percentile(sorted, 50).toFixed(2).padStart(7)} ms   p99 ${percentile(sorted, 99).toFixed(2).padStart(7)} ms`;
    };
    console.log(`GitHub browser login, server side (${TOTAL} logins, stand-in GitHub, local signer, embedded DynamoDB)`);
    console.log(row('console', consoleMs));
    console.log(row('callback', callbackMs));
    console.log(row('console + callback', totals));
    // Steadier than latency on a loaded machine: this process runs the API handlers, the GitHub
    // stand-in and the client (embedded DynamoDB runs apart).
    console.log(
      `CPU time of this process per login: ${(cpuMicros / TOTAL / 1000).toFixed(2)} ms (load average ${os.loadavg()[0]!.toFixed(1)})`,
    );
  } finally {
    await g.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
