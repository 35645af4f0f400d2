// The processes a bench starts (the stand-in, the agent, local mode, nginx), kept in one place so
// that every one of them is stopped whatever happens, and the few probes the benches take of them.
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** Each process a bench started, with the signal that ends it at once (nginx: SIGTERM, so its master also ends its workers). */
const children = new Map<ChildProcess, NodeJS.Signals>();

function killAll(): void {
  for (const [child, signal] of children) child.kill(signal);
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}; stopping everything`);
    process.exit(130);
  });
}

/** Registers a process started elsewhere (spawn), so that it is killed with `signal` if the bench ends first. */
export function track(child: ChildProcess, signal: NodeJS.Signals): ChildProcess {
  children.set(child, signal);
  child.once('exit', () => children.delete(child));
  return child;
}

/** BENCH_PROFILE_DIR=<dir>: the children write V8 CPU profiles (.cpuprofile) there when they stop. */
export const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
export const profileFlags = (): string[] => (PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []);

/** Forks a bench child (a .ts file beside this one) with tsx and an IPC channel. */
export function startChild(file: string, args: string[] = []): ChildProcess {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    execArgv: ['--import', import.meta.resolve('tsx'), ...profileFlags()],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return track(child, 'SIGKILL');
}

export const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Stops a child: over IPC ('stop') or with a signal; SIGKILL after 3 s (10 s when profiling, which writes on exit). */
export async function stopProcess(child: ChildProcess, how: 'ipc' | NodeJS.Signals): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (how !== 'ipc') child.kill(how);
  else if (child.connected) child.send({ type: 'stop' });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), PROFILE_DIR ? 10_000 : 3_000);
  await gone;
  clearTimeout(timer);
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** utime + stime (µs) of a process and its direct children, from /proc (Linux); undefined without /proc. */
export function processTreeCpuMicros(pid: number): number | undefined {
  let ticks = 0;
  let found = false;
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command name, which may hold spaces: state ppid ... utime(14) stime(15).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(entry) !== pid && Number(fields[1]) !== pid) continue;
    found = true;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return found ? (ticks * 1e6) / CLOCK_TICKS : undefined;
}

/** Resident set size of one process in bytes, from /proc (Linux); undefined without it. */
export function processRss(pid: number): number | undefined {
  try {
    const rssPages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return rssPages * 4096;
  } catch {
    return undefined;
  }
}

/** VmRSS (resident now) and VmHWM (the most it ever was) of one process in bytes, from /proc/PID/status (Linux). */
export function processMemory(pid: number): { rss: number; hwm: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  const rss = kib('VmRSS');
  const hwm = kib('VmHWM');
  return Number.isFinite(rss) && Number.isFinite(hwm) ? { rss, hwm } : undefined;
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls until something listens on the port; fails when `gone()` or after `timeoutMs`. */
export async function waitForPort(port: number, gone: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(port))) {
    if (gone()) throw new Error(`${what} exited before listening on port ${port}`);
    if (Date.now() > deadline) throw new Error(`${what} did not listen on port ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
