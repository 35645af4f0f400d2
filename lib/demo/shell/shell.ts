// The demo shell: runs a command line of built-ins (builtins.ts), interactively at a terminal
// (prompt, Ctrl-C, Ctrl-D) or as a script read from standard input, or one command as exec gave it.
import { type CommandIo, type ShellState, builtins } from './builtins.js';
import { parseLine } from './parse.js';

export type Input = { kind: 'data'; data: string | Buffer } | { kind: 'eof' } | { kind: 'interrupt' };

/** One exec's standard streams, as the shell sees them. */
export interface Session {
  /** The next input: a line at a terminal, raw bytes without; 'interrupt' is Ctrl-C. */
  read(): Promise<Input>;
  out(data: string | Buffer): void;
  /** Resolves when the transport can take more output. */
  drain(): Promise<void>;
  err(text: string): void;
  /** Undefined without a terminal. */
  terminal: { columns: number; rows: number } | undefined;
  /** What Ctrl-C aborts while a command runs; undefined at the prompt. */
  setForeground(controller: AbortController | undefined): void;
  /** What Ctrl-L redraws. */
  setPrompt(prompt: string): void;
  /** Aborted when the client has gone. */
  closed: AbortSignal;
}

type Outcome = { status: number } | { exit: number };
const SHELLS = new Set(['sh', 'bash', 'ash', '/bin/sh', '/bin/bash', '/bin/ash']);
/** Every command the shell knows, for help and /bin. */
export const shellCommands = [...Object.keys(builtins), 'exit', 'sh'].sort();

/** Runs the command exec was given; resolves with its exit code. */
export async function runExecCommand(command: string[], session: Session, state: ShellState): Promise<number> {
  const outcome = await runCommand(command, session, state);
  return 'exit' in outcome ? outcome.exit : outcome.status;
}

async function runCommand(words: string[], session: Session, state: ShellState): Promise<Outcome> {
  const [name = '', ...args] = words;
  if (name === 'exit') {
    const code = args[0] === undefined ? state.status : Number(args[0]);
    if (!Number.isInteger(code)) {
      session.err(`sh: exit: Illegal number: ${args[0]}\n`);
      return { exit: 2 };
    }
    return { exit: ((code % 256) + 256) % 256 };
  }
  if (SHELLS.has(name)) {
    if (args[0] === '-c') return { status: await runScript(args[1] ?? '', session, state) };
    if (args.length > 0) {
      session.err(`sh: can't open '${args[0]}': the demo shell runs no script files; use sh -c '...'\n`);
      return { status: 2 };
    }
    return { status: session.terminal ? await interactive(session, state) : await readScript(session, state) };
  }
  const builtin = builtins[name];
  if (!builtin) {
    session.err(`sh: ${name}: not found (type help for the demo's commands)\n`);
    return { status: 127 };
  }
  const controller = new AbortController();
  const hangUp = () => controller.abort();
  session.closed.addEventListener('abort', hangUp, { once: true });
  session.setForeground(controller);
  const io: CommandIo = {
    out: (data) => session.out(data),
    drain: () => session.drain(),
    err: (text) => session.err(text),
    terminal: session.terminal,
    signal: controller.signal,
    read: async () => {
      if (controller.signal.aborted) return null;
      const input = await session.read();
      if (input.kind === 'interrupt') controller.abort();
      return input.kind === 'data' ? input.data : null;
    },
  };
  try {
    const status = await builtin(args, io, state);
    // Killed by SIGINT, as a shell reports it: 128 + 2.
    return { status: controller.signal.aborted ? 130 : status };
  } finally {
    session.setForeground(undefined);
    session.closed.removeEventListener('abort', hangUp);
  }
}

/** Runs one line; an `exit` in it ends the shell. */
async function runLine(line: string, session: Session, state: ShellState): Promise<Outcome> {
  const parsed = parseLine(line, (name) => (name === '?' ? String(state.status) : (state.env.get(name) ?? '')));
  if ('error' in parsed) {
    session.err(`${parsed.error}\n`);
    return { status: (state.status = 2) };
  }
  for (const words of parsed.commands) {
    const outcome = await runCommand(words, session, state);
    if ('exit' in outcome || session.closed.aborted) return outcome;
    state.status = outcome.status;
  }
  return { status: state.status };
}

async function runScript(script: string, session: Session, state: ShellState): Promise<number> {
  const outcome = await runLine(script, session, state);
  return 'exit' in outcome ? outcome.exit : outcome.status;
}

/** sh without a terminal: the lines of standard input, one after another, until its end. */
async function readScript(session: Session, state: ShellState): Promise<number> {
  let pending = '';
  for (;;) {
    const input = await session.read();
    if (input.kind !== 'data') break;
    pending += input.data.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const outcome = await runLine(line, session, state);
      if ('exit' in outcome) return outcome.exit;
    }
  }
  return pending ? runScript(pending, session, state) : state.status;
}

/** sh at a terminal: a prompt, a line, its commands, again; Ctrl-C starts a fresh line, Ctrl-D leaves. */
async function interactive(session: Session, state: ShellState): Promise<number> {
  for (;;) {
    const where = state.cwd === state.env.get('HOME') ? '~' : state.cwd;
    const prompt = `root@${state.pod.name}:${where}# `;
    session.setPrompt(prompt);
    session.out(prompt);
    const input = await session.read();
    if (session.closed.aborted) return state.status;
    if (input.kind === 'eof') {
      session.out('exit\n');
      return state.status;
    }
    // Ctrl-C at the prompt only clears the line: $? stays, so a Ctrl-D after it leaves cleanly.
    if (input.kind === 'interrupt') continue;
    const outcome = await runLine(input.data.toString(), session, state);
    if ('exit' in outcome) return outcome.exit;
  }
}
