// How tsh and tctl end. A user error (a KubeportError: a flag, a login, a file, the proxy saying
// no; or a system error such as EACCES) is one line on standard error and exit 1. Anything else
// is a bug in Kubeport: its message and stack, where to report it, exit 70 (EX_SOFTWARE).
import type { Command } from 'commander';
import { KubeportError } from '../core/errors.js';
import type { Writer } from './commands/deps.js';
import { INTERRUPTED_EXIT, InterruptedError } from './login-wait.js';
import { showShortUsageAfterError } from './short-usage.js';
import { terminalSafe } from './terminal-text.js';

export const USER_ERROR_EXIT = 1;
export const BUG_EXIT = 70;

interface CommanderError extends Error {
  exitCode: number;
  code: string;
}

function isCommanderError(error: unknown): error is CommanderError {
  return (
    error instanceof Error &&
    typeof (error as CommanderError).exitCode === 'number' &&
    String((error as CommanderError).code).startsWith('commander.')
  );
}

/** An error of the operating system about a file or a socket: the user's environment, not a bug. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).syscall === 'string' &&
    typeof (error as NodeJS.ErrnoException).code === 'string'
  );
}

/** Writes what the user should see about `error`; returns the exit code. */
export function reportFailure(name: string, error: unknown, stderr: Writer): number {
  // Commander has printed its usage message already (and the command's usage line after it).
  if (isCommanderError(error)) return error.exitCode;
  // A message may carry a proxy's words: printed without control characters.
  if (error instanceof KubeportError) {
    stderr.write(`${name}: ${terminalSafe(error.message)}\n`);
    return error instanceof InterruptedError ? INTERRUPTED_EXIT : USER_ERROR_EXIT;
  }
  if (isSystemError(error)) {
    stderr.write(`${name}: ${terminalSafe(error.message)}\n`);
    return USER_ERROR_EXIT;
  }
  const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  stderr.write(`${name}: ${terminalSafe(detail)}\n${name}: this is a bug in Kubeport; please report it with the command you ran\n`);
  return BUG_EXIT;
}

/**
 * A reader that stops early (`tsh status | head -1`) closes the pipe: the output is done, not a
 * failure. Node ignores SIGPIPE, so the write fails with EPIPE as an 'error' event that would
 * otherwise end the process with a stack; end quietly with 0 instead, as other CLIs do.
 */
export function endQuietlyWhenStdoutCloses(
  stdout: NodeJS.EventEmitter = process.stdout,
  exit: (code: number) => void = process.exit,
): void {
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    exit(0);
  });
}

/** Parses and runs the command line; returns the exit code (0, 1 for user errors, 70 for bugs). */
export async function runCommand(program: Command, name: string, argv: string[], stderr: Writer): Promise<number> {
  // Commander would end the process itself on a usage error; here it throws, and the code is returned.
  const override = (command: Command) => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  showShortUsageAfterError(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    return reportFailure(name, error, stderr);
  }
}
