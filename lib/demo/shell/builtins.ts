// The demo shell's commands. Each is a small function over the fake file system and the shell's
// state: no process is started and no host file is read, whatever the arguments.
import { type FakeFs, listDirectory, resolvePath } from './fake-fs.js';
import { fileBuiltins } from './file-builtins.js';

export interface CommandIo {
  out(data: string | Buffer): void;
  /** Standard error: a channel of its own without a terminal, merged into out with one. */
  err(text: string): void;
  /** The next piece of input (a line with a terminal, raw bytes without); null at its end or on Ctrl-C. */
  read(): Promise<string | Buffer | null>;
  /** Aborted by Ctrl-C, or when the client goes away. */
  signal: AbortSignal;
  /** The terminal's size as the last resize message gave it; undefined without a terminal. */
  terminal: { columns: number; rows: number } | undefined;
}

export interface ShellState {
  pod: { name: string; namespace: string; ip: string };
  fs: FakeFs;
  cwd: string;
  env: Map<string, string>;
  /** Exit status of the last command ($?). */
  status: number;
  now: () => Date;
}

export type Builtin = (args: string[], io: CommandIo, state: ShellState) => number | Promise<number>;

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');
/** As date(1) prints it in UTC: "Wed Dec  2 04:41:49 UTC 2026". */
export const dateText = (d: Date) =>
  `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ` +
  `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;

async function cat(args: string[], io: CommandIo, state: ShellState): Promise<number> {
  if (args.length === 0 || (args.length === 1 && args[0] === '-')) {
    // Standard input until Ctrl-D (end of input) or Ctrl-C.
    for (let chunk = await io.read(); chunk !== null; chunk = await io.read()) io.out(chunk);
    return 0;
  }
  let status = 0;
  for (const arg of args) {
    const content = state.fs.get(resolvePath(state.cwd, arg));
    if (content !== null && content !== undefined) io.out(content);
    else {
      io.err(`cat: ${arg}: ${content === null ? 'Is a directory' : 'No such file or directory'}\n`);
      status = 1;
    }
  }
  return status;
}

function ls(args: string[], io: CommandIo, state: ShellState): number {
  const all = args.some((a) => /^-\w*a/.test(a));
  const paths = args.filter((a) => !a.startsWith('-'));
  let status = 0;
  for (const path of paths.length ? paths : ['.']) {
    const absolute = resolvePath(state.cwd, path);
    const entry = state.fs.get(absolute);
    if (entry === undefined) {
      io.err(`ls: ${path}: No such file or directory\n`);
      status = 2;
      continue;
    }
    const names = entry === null ? [...(all ? ['.', '..'] : []), ...listDirectory(state.fs, absolute)] : [path];
    if (paths.length > 1 && entry === null) io.out(`${path}:\n`);
    // One name a line into a pipe, side by side on a terminal, as ls does.
    if (names.length) io.out(io.terminal ? `${names.join('  ')}\n` : names.map((n) => `${n}\n`).join(''));
  }
  return status;
}

function cd(args: string[], io: CommandIo, state: ShellState): number {
  const target = resolvePath(state.cwd, args[0] ?? state.env.get('HOME') ?? '/');
  const entry = state.fs.get(target);
  if (entry !== null) {
    io.err(`sh: cd: can't cd to ${args[0]}: ${entry === undefined ? 'No such file or directory' : 'Not a directory'}\n`);
    return 2;
  }
  state.cwd = target;
  return 0;
}

function sleep(args: string[], io: CommandIo): Promise<number> | number {
  const seconds = Number(args[0]);
  if (!Number.isFinite(seconds) || seconds < 0) {
    io.err(`sleep: invalid number '${args[0] ?? ''}'\n`);
    return 1;
  }
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resolve(0);
    };
    const timer = setTimeout(done, Math.min(seconds, 3600) * 1000);
    io.signal.addEventListener('abort', done, { once: true });
  });
}

function terminalSize(io: CommandIo, command: string): { columns: number; rows: number } | undefined {
  if (!io.terminal) io.err(`${command}: standard input is not a terminal (use kubectl exec -it)\n`);
  return io.terminal;
}

function stty(args: string[], io: CommandIo): number {
  if (args[0] !== 'size') {
    io.err("stty: only 'stty size' works in the demo shell\n");
    return 1;
  }
  const size = terminalSize(io, 'stty');
  if (size) io.out(`${size.rows} ${size.columns}\n`);
  return size ? 0 : 1;
}

function tput(args: string[], io: CommandIo): number {
  if (args[0] === 'clear') {
    io.out('\x1b[H\x1b[2J');
    return 0;
  }
  if (args[0] !== 'cols' && args[0] !== 'lines') {
    io.err("tput: only 'tput cols', 'tput lines' and 'tput clear' work in the demo shell\n");
    return 1;
  }
  const size = terminalSize(io, 'tput');
  if (size) io.out(`${args[0] === 'cols' ? size.columns : size.rows}\n`);
  return size ? 0 : 1;
}

function uname(args: string[], io: CommandIo, state: ShellState): number {
  io.out(args.includes('-a') ? `Linux ${state.pod.name} 6.1.0-kubeport-demo #1 SMP x86_64 GNU/Linux\n` : 'Linux\n');
  return 0;
}

function exportVariables(args: string[], _io: CommandIo, state: ShellState): number {
  for (const arg of args) {
    const at = arg.indexOf('=');
    if (at > 0) state.env.set(arg.slice(0, at), arg.slice(at + 1));
  }
  return 0;
}

const HELP = [
  'Kubeport demo shell: a few commands built into the demo cluster. There is no container and no',
  "host shell behind it; pipes and redirections don't work.",
  '',
  'Commands: COMMANDS',
  'Keys: Backspace, Ctrl-U and Ctrl-W edit the line; Ctrl-C clears it or stops a command (cat, sleep);',
  'Ctrl-D on an empty line, or exit [N], leaves.',
  '',
].join('\n');

export const builtins: Record<string, Builtin> = {
  ...fileBuiltins,
  cat,
  cd,
  clear: (_args, io) => tput(['clear'], io),
  date: (_args, io, state) => (io.out(`${dateText(state.now())}\n`), 0),
  echo: (args, io) => {
    const noNewline = args[0] === '-n';
    io.out(`${(noNewline ? args.slice(1) : args).join(' ')}${noNewline ? '' : '\n'}`);
    return 0;
  },
  env: (_args, io, state) => {
    io.out([...state.env, ['PWD', state.cwd]].map(([k, v]) => `${k}=${v}\n`).join(''));
    return 0;
  },
  export: exportVariables,
  false: () => 1,
  help: (_args, io) => (io.out(HELP.replace('COMMANDS', [...Object.keys(builtins), 'exit', 'sh'].sort().join(' '))), 0),
  hostname: (_args, io, state) => (io.out(`${state.pod.name}\n`), 0),
  id: (_args, io) => (io.out('uid=0(root) gid=0(root) groups=0(root)\n'), 0),
  ls,
  pwd: (_args, io, state) => (io.out(`${state.cwd}\n`), 0),
  sleep,
  stty,
  tput,
  true: () => 0,
  uname,
  whoami: (_args, io) => (io.out('root\n'), 0),
};
