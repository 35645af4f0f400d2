// How long the CLIs take to start, as wall time of the whole process (median of BENCH_CLI_RUNS,
// default 5, after one warm-up run): kubectl runs `tsh kube credentials` before every command it
// sends, so that one matters most; `tctl --help` shows what loading alone costs.
//
// Local mode runs with --demo in a temporary directory, with one user enrolled through tsh login,
// so every command below does its real work against a real API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, node, tshEnroll } from '../test/support/cli.js';
import { startLocalModeProcess } from '../test/support/local-mode-process.js';

const runs = Number(process.env.BENCH_CLI_RUNS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'kubeport-cli-bench-'));
const dataDir = join(dir, 'data');
const env = {
  ...process.env,
  HOME: join(dir, 'home'),
  TSH_HOME: join(dir, 'home', '.tsh'),
  KUBECONFIG: join(dir, 'home', '.kube', 'config'),
};
const local = await startLocalModeProcess({ dataDir, extraArgs: ['--demo'], env });

async function timed(script: string, args: string[]): Promise<number> {
  const start = process.hrtime.bigint();
  const result = await node(script, args, { env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.code !== 0) throw new Error(`${args.join(' ')} exited with ${result.code}: ${result.stderr}`);
  return ms;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

try {
  const added = await node(
    cliPath('tctl'),
    [`--data-dir=${dataDir}`, 'users', 'add', 'bench', '--roles=access', '--kubernetes-groups=system:masters'],
    { env },
  );
  const invite = /--invite=(\S+)/.exec(added.stdout)?.[1];
  if (!invite) throw new Error(`tctl users add printed no invite: ${added.stderr}`);
  const login = await tshEnroll(env, local.proxy, 'bench', invite, 'correct horse battery staple');
  if (login.code !== 0) throw new Error(`tsh login failed: ${login.stderr}`);

  const commands: [string, string, string[]][] = [
    ['tsh kube credentials', cliPath('tsh'), ['kube', 'credentials', '--kube-cluster=demo-dev', `--proxy=${local.proxy}`]],
    ['tsh status', cliPath('tsh'), ['status']],
    ['tctl --help', cliPath('tctl'), ['--help']],
    ['tctl get roles', cliPath('tctl'), [`--data-dir=${dataDir}`, 'get', 'roles']],
  ];
  process.stdout.write(`CLI start-up, wall time of the process, median of ${runs} runs\n`);
  for (const [name, script, args] of commands) {
    await timed(script, args);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await timed(script, args));
    process.stdout.write(`  ${name.padEnd(24)}${median(times).toFixed(0).padStart(6)} ms\n`);
  }
} finally {
  await local.stop();
  rmSync(dir, { recursive: true, force: true });
}
