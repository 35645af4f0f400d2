// kubectl left running (exec with stdin open, get -w): its output as it comes, stdin to write
// to, and its exit, for tests of what happens to a command while it runs.
import { type ChildProcess, spawn } from 'node:child_process';

export interface RunningKubectl {
  child: ChildProcess;
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

export function startKubectl(args: string[], env: NodeJS.ProcessEnv, cwd: string): RunningKubectl {
  const child = spawn('kubectl', args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}
