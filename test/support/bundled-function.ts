// A built Lambda bundle running in a Node process of its own (lambda-runner.mjs), with only the
// environment the test gives it, as Lambda runs it: invoked with events over IPC, its stdout and
// stderr kept as its log.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const RUNNER = fileURLToPath(new URL('./lambda-runner.mjs', import.meta.url));

export class InvocationError extends Error {
  constructor(
    message: string,
    /** The bundle failed to load (the cold start), not the invocation. */
    readonly init: boolean,
  ) {
    super(message);
  }
}

interface Answer {
  id?: number;
  ready?: boolean;
  result?: unknown;
  error?: { init: boolean; message: string };
}

export interface BundledFunction {
  invoke<T = unknown>(event: unknown, options?: { timeoutMs?: number }): Promise<T>;
  /** An API Gateway v2 event in, the structured result out. */
  http(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2>;
  /** Every line the function wrote to stdout and stderr so far. */
  logLines(): string[];
  close(): Promise<void>;
}

export async function startBundledFunction(bundlePath: string, env: Record<string, string>): Promise<BundledFunction> {
  const child: ChildProcess = fork(RUNNER, [bundlePath], {
    // Only what Lambda would give it (and PATH for node itself): nothing of the test's own environment.
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  let log = '';
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error(`the function's process exited; its log:\n${log}`));
    pending.clear();
  });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (message: Answer) => {
      if (message.ready) return resolve();
      const waiter = pending.get(message.id!);
      if (!waiter) return;
      pending.delete(message.id!);
      if (message.error) waiter.reject(new InvocationError(message.error.message, message.error.init));
      else waiter.resolve(message.result);
    });
    void exited.then(() => reject(new Error(`the function's process exited before it was ready; its log:\n${log}`)));
  });
  const invoke = <T>(event: unknown, options: { timeoutMs?: number } = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, event, timeoutMs: options.timeoutMs ?? 30_000 });
    });
  return {
    invoke,
    http: (event) => invoke<APIGatewayProxyStructuredResultV2>(event),
    logLines: () => log.split('\n').filter((line) => line !== ''),
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill();
        await exited;
      }
    },
  };
}
