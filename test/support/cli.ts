// Runs the real CLIs (tsh, tctl, kubectl, npm start) as a user would, with answers on stdin.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { totpCode, totpStep } from '../../lib/core/totp.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const cliPath = (name: 'tsh' | 'tctl' | 'kubeport-local') => `${repoRoot}cli/${name}.mjs`;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Lines to write to stdin at start; stdin is closed afterwards unless `respond` is given. */
  input?: string;
  /** Called with each stderr chunk seen so far; may write answers to stdin. */
  respond?: (stderrSoFar: string, stdin: NodeJS.WritableStream) => void;
  timeoutMs?: number;
}

export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(command, args, {
      cwd: options.cwd ?? repoRoot,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.respond?.(stderr, child.stdin!);
    });
    child.stdin!.on('error', () => undefined);
    if (options.input !== undefined) child.stdin!.write(options.input);
    if (!options.respond) child.stdin!.end();
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export const node = (script: string, args: string[], options: RunOptions = {}) => run(process.execPath, [script, ...args], options);

/** The TOTP secret from an otpauth:// URI that tsh printed. */
export function secretFromOtpauth(text: string): string | undefined {
  return /otpauth:\/\/\S+[?&]secret=([A-Z2-7]+)/.exec(text)?.[1];
}

/** A valid code for a time step that has not been used yet (one step ahead is accepted). */
export function codeFor(secret: string, stepOffset = 0, at = new Date()): string {
  return totpCode(secret, totpStep(at) + stepOffset);
}

/** tsh login with an invite: a password, then the code for the secret tsh prints. */
export function tshEnroll(
  env: NodeJS.ProcessEnv,
  proxy: string,
  user: string,
  invite: string,
  password: string,
  options: { code?: (secret: string) => string } = {},
) {
  let secret: string | undefined;
  let answered = false;
  return node(cliPath('tsh'), ['login', `--proxy=${proxy}`, `--user=${user}`, `--invite=${invite}`], {
    env,
    respond: (stderr, stdin) => {
      secret ??= secretFromOtpauth(stderr);
      if (secret && !answered && stderr.includes('6-digit code')) {
        answered = true;
        stdin.end(`${options.code ? options.code(secret) : codeFor(secret)}\n`);
      }
    },
    input: `${password}\n`,
  }).then((result) => ({ ...result, secret }));
}

export async function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${seen}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve(seen);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited with ${code} before ${pattern}; output:\n${seen}`)));
  });
}

/**
 * Everything a long-running child prints, kept from the start: waitFor sees output that arrived
 * while the test was busy elsewhere (waitForOutput only sees what comes after it is called).
 */
export function collectOutput(child: ChildProcess) {
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    text: () => text,
    waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(text);
          if (!match) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(match);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${text}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}
