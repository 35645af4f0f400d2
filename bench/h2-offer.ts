// Would offering HTTP/2 (ALPN h2) to kubectl help its plain request path? Measured with the real
// kubectl through two nginx in front of the same stand-in, one offering only HTTP/1.1, one also
// h2 (nginx, because the agent speaks only HTTP/1.1; both are the same proxy but for ALPN):
//   - `kubectl get pods`, a fresh kubectl process each time, discovery cached (the common case);
//   - `kubectl api-resources` with an empty discovery cache, the request burst where HTTP/1.1
//     needs parallel connections (and TLS handshakes) and HTTP/2 multiplexes one.
// Wall time per command, median of several, h2 against HTTP/1.1. kubectl opens its own HTTP/1.1
// connections for upgrades (exec, attach, port-forward) whatever is offered, so those are no part of it.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { kubectl } from './exec-throughput.js';
import { type KubePath, startKubePaths, writeKubeconfig } from './kube-paths.js';
import { type Nginx, startNginx } from './nginx.js';

const RUNS = Math.max(3, Number(process.env.BENCH_H2_RUNS ?? '9'));
const DISCOVERY_RUNS = Math.max(3, Number(process.env.BENCH_H2_DISCOVERY_RUNS ?? '5'));
/** Below this gain h2 is not worth a second protocol in the agent. */
const CLEAR_GAIN = 0.1;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<number> {
  const dir = mkdtempSync(join(os.tmpdir(), 'kubeport-bench-h2-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const kube = await startKubePaths(dir, {});
  const proxies: Nginx[] = [];
  try {
    const base = kube.paths.find((p) => p.name === 'nginx');
    if (!base || !kube.nginxBin) {
      console.log('\n5. HTTP/2 toward kubectl: NOT MEASURED (no nginx)');
      return 0;
    }
    const variant = async (http2: boolean): Promise<KubePath> => {
      const sub = join(dir, http2 ? 'nginx-h2' : 'nginx-h1');
      mkdirSync(sub);
      const proxy = await startNginx(kube.nginxBin!, sub, kube.nginxPems, 1024, { http2 });
      proxies.push(proxy);
      const kubeconfig = writeKubeconfig(sub, http2 ? 'h2' : 'h1', `https://127.0.0.1:${proxy.port}`, base.tls);
      return { ...base, port: proxy.port, kubeconfig };
    };
    const h1 = await variant(false);
    const h2 = await variant(true);
    const time = async (path: KubePath, args: string[], cacheDir: () => string) => {
      const run = await kubectl(path, args, { KUBECACHEDIR: cacheDir() }, 60_000);
      if (run.error) throw new Error(`kubectl ${args.join(' ')}: ${run.error}`);
      return run.seconds * 1000;
    };
    const rows: { what: string; h1: number; h2: number }[] = [];
    const warmCache = join(dir, 'warm-cache');
    let fresh = 0;
    const emptyCache = () => join(dir, `empty-cache-${++fresh}`);
    for (const path of [h1, h2]) await time(path, ['get', 'pods'], () => warmCache); // fills the cache, primes nginx
    const gets = { h1: [] as number[], h2: [] as number[] };
    const discovery = { h1: [] as number[], h2: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      gets.h1.push(await time(h1, ['get', 'pods'], () => warmCache));
      gets.h2.push(await time(h2, ['get', 'pods'], () => warmCache));
    }
    for (let i = 0; i < DISCOVERY_RUNS; i++) {
      discovery.h1.push(await time(h1, ['api-resources'], emptyCache));
      discovery.h2.push(await time(h2, ['api-resources'], emptyCache));
    }
    rows.push({ what: `kubectl get pods, discovery cached (median of ${RUNS})`, h1: median(gets.h1), h2: median(gets.h2) });
    rows.push({
      what: `kubectl api-resources, empty cache (median of ${DISCOVERY_RUNS})`,
      h1: median(discovery.h1),
      h2: median(discovery.h2),
    });
    console.log('\n5. HTTP/2 toward kubectl for plain requests (two nginx in front of the stand-in, HTTP/1.1 only vs h2 offered)');
    const width = Math.max(...rows.map((r) => r.what.length));
    console.log(`${''.padEnd(width)}  ${'HTTP/1.1 ms'.padStart(11)}  ${'h2 ms'.padStart(7)}  ${'h2/1.1'.padStart(6)}  verdict`);
    for (const row of rows) {
      const ratio = row.h2 / row.h1;
      const verdict = ratio < 1 - CLEAR_GAIN ? 'h2 helps' : ratio > 1 + CLEAR_GAIN ? 'h2 hurts' : 'no clear difference';
      console.log(
        `${row.what.padEnd(width)}  ${row.h1.toFixed(0).padStart(11)}  ${row.h2.toFixed(0).padStart(7)}  ${ratio.toFixed(2).padStart(6)}  ${verdict}`,
      );
    }
    const helps = rows.every((r) => r.h2 < (1 - CLEAR_GAIN) * r.h1);
    console.log(
      `verdict: ${helps ? 'h2 clearly helps kubectl here; worth offering' : `h2 does not clearly help (aim: ${CLEAR_GAIN * 100}% less time on every row); the agent keeps offering HTTP/1.1 only`}`,
    );
    return 0;
  } finally {
    await Promise.all(proxies.map((p) => p.stop()));
    await kube.stop();
  }
}

process.exitCode = await main();
