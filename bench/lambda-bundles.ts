// Each Lambda bundle as the stack deploys it (lib/infra/lambda-bundles.ts): its size, raw and
// zipped as the deployment package (index.mjs and its source map), and the time a fresh Node
// process takes to import it, a proxy for the cold start's init phase. Aims (issue 9): under 1 MB
// and under 200 ms.
//
// Import time: the wall time of `node` importing the bundle, p50 of RUNS fresh processes, minus
// the p50 of a fresh process importing nothing (net); and the import alone as timed inside the
// process. The processes get a complete function environment with endpoints on a closed
// loopback port, so a composition root that reads its configuration at import does so and one
// that called AWS at import would fail here instead of waiting on the network.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { LAMBDA_ENTRIES, type LambdaName, buildLambdaBundle } from '../lib/infra/lambda-bundles.js';
import { percentile } from './statistics.js';

const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 10);
const SIZE_AIM_BYTES = 1024 * 1024;
const IMPORT_AIM_MS = 200;

/** Nothing listens on port 9 of loopback: any AWS call at import fails at once. */
const CLOSED = 'http://127.0.0.1:9';
const FUNCTION_ENVIRONMENT: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench-secret',
  AWS_ENDPOINT_URL_DYNAMODB: CLOSED,
  AWS_ENDPOINT_URL_S3: CLOSED,
  AWS_ENDPOINT_URL_KMS: CLOSED,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: CLOSED,
  AWS_ENDPOINT_URL_STS: CLOSED,
  KUBEPORT_CLUSTER_NAME: 'bench',
  KUBEPORT_RESOURCES_TABLE: 'resources',
  KUBEPORT_STATE_TABLE: 'state',
  KUBEPORT_AUDIT_TABLE: 'audit',
  KUBEPORT_SECRETS_KEY_ID: 'alias/kubeport-secrets',
  KUBEPORT_GITHUB_SECRET_NAME: 'kubeport/github-client-secret',
  KUBEPORT_CA_SIGNER_ROLE_ARNS: 'arn:aws:iam::123456789012:role/auth',
  KUBEPORT_CA_READER_ROLE_ARNS: 'arn:aws:iam::123456789012:role/admin',
  KUBEPORT_CA_KEY_TAG: 'bench',
  KUBEPORT_RECORDINGS_BUCKET: 'recordings',
  KUBEPORT_USER_CA_KEY_ID: 'alias/kubeport-user-ca',
  KUBEPORT_HOST_CA_KEY_ID: 'alias/kubeport-host-ca',
  KUBEPORT_STACK_ID: 'arn:aws:cloudformation:us-east-1:123456789012:stack/bench/1',
};

/** Prints the import's own duration and the process's CPU time so far (ms) on stdout; imports nothing when given no URL. */
const IMPORTER = `
const url = process.argv[1];
const t0 = performance.now();
if (url) {
  const module = await import(url);
  if (typeof module.handler !== 'function') throw new Error('the bundle exports no handler');
}
const importMs = performance.now() - t0;
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ importMs, cpuMs: (cpu.user + cpu.system) / 1000 }));
`;

interface ProcessTiming {
  wallMs: number;
  importMs: number;
  /** CPU time of the process (user + system), steadier than wall time on a loaded machine. */
  cpuMs: number;
}

function importInFreshProcess(bundle?: string): Promise<ProcessTiming> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const args = ['--input-type=module', '-e', IMPORTER, ...(bundle ? [pathToFileURL(bundle).href] : [])];
    const child = spawn(process.execPath, args, { env: FUNCTION_ENVIRONMENT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - start;
      if (code !== 0) reject(new Error(`importing ${bundle ?? 'nothing'} failed (exit ${code}): ${stderr.trim()}`));
      else resolve({ wallMs, ...(JSON.parse(stdout) as { importMs: number; cpuMs: number }) });
    });
  });
}

async function timings(bundle?: string): Promise<ProcessTiming> {
  await importInFreshProcess(bundle); // warms the file cache
  const runs: ProcessTiming[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await importInFreshProcess(bundle));
  const p50 = (pick: (run: ProcessTiming) => number) => percentile(runs.map(pick), 50);
  return { wallMs: p50((r) => r.wallMs), importMs: p50((r) => r.importMs), cpuMs: p50((r) => r.cpuMs) };
}

/** The size of a zip holding `files` as deflated entries (level 9, as CDK zips assets): local headers, data, central directory. */
function zippedBytes(files: { name: string; data: Buffer }[]): number {
  const LOCAL_HEADER = 30;
  const CENTRAL_HEADER = 46;
  const END_OF_CENTRAL_DIRECTORY = 22;
  let total = END_OF_CENTRAL_DIRECTORY;
  for (const file of files) {
    const name = Buffer.byteLength(file.name);
    total += LOCAL_HEADER + name + deflateRawSync(file.data, { level: 9 }).length + CENTRAL_HEADER + name;
  }
  return total;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
const ms = (value: number) => `${value.toFixed(0)} ms`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kubeport-bundles-'));
  try {
    const empty = await timings();
    const rows: string[][] = [];
    for (const name of Object.keys(LAMBDA_ENTRIES) as LambdaName[]) {
      const outDir = join(dir, name);
      const buildStart = performance.now();
      const bundle = await buildLambdaBundle(name, outDir);
      const buildMs = performance.now() - buildStart;
      const code = readFileSync(bundle);
      const map = readFileSync(`${bundle}.map`);
      const zipped = zippedBytes([
        { name: 'index.mjs', data: code },
        { name: 'index.mjs.map', data: map },
      ]);
      const time = await timings(bundle);
      const netMs = time.wallMs - empty.wallMs;
      rows.push([
        name,
        kb(statSync(bundle).size),
        kb(map.length),
        kb(zipped),
        ms(buildMs),
        ms(time.wallMs),
        ms(netMs),
        ms(time.importMs),
        ms(time.cpuMs - empty.cpuMs),
        `${code.length < SIZE_AIM_BYTES ? 'MET' : 'MISSED'} / ${netMs < IMPORT_AIM_MS ? 'MET' : 'MISSED'}`,
      ]);
    }
    const header = [
      'function',
      'index.mjs',
      'map',
      'zip (both)',
      'build',
      'process p50',
      'net p50',
      'import p50',
      'net CPU p50',
      'aims <1 MB / <200 ms',
    ];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    console.log(`Lambda bundles: size and import time in a fresh Node ${process.version} process (p50 of ${RUNS} processes each)`);
    // Lambda runs nodejs22.x on Graviton; this machine's figures are a proxy, and a loaded machine inflates them.
    console.log(`  ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the end`);
    for (const row of [header, ...rows])
      console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
    console.log(
      `  a fresh process importing nothing: ${ms(empty.wallMs)} wall, ${ms(empty.cpuMs)} CPU (p50); net = process p50 - that; ` +
        'import = the import() alone, timed inside the process; net CPU = CPU time of the process minus that of the empty one',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
