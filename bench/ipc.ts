// Messages between the bench and its child processes (the API server stand-in and the agent),
// and the few helpers both sides use to exchange them.
import type { ChildProcess } from 'node:child_process';

export interface PemPair {
  certPem: string;
  keyPem: string;
}

/** Stand-in → bench, once it listens. */
export interface StandInReady {
  type: 'ready';
  url: string;
  port: number;
  caPem: string;
  /** A client certificate for the user the stand-in lets impersonate ('kubeport-agent'). */
  agentClient: PemPair;
}

/** Audit store → bench, once it answers: where, and its audit table. */
export interface AuditStoreReady {
  type: 'ready';
  socketPath: string;
  table: string;
}

/** Agent → bench: listening for its configuration. */
export interface AgentWaiting {
  type: 'waiting';
}

/** Bench → agent: everything createAgent needs that is not fixed in the agent process. */
export interface AgentStart {
  type: 'start';
  tls: PemPair;
  userCaPem: string;
  upstream: { url: string; caPem: string; client: PemPair };
  /** Limits for this run (e.g. raised connection limits for the idle-watch figure); the defaults otherwise. */
  limits?: Record<string, number>;
  /** Records interactive sessions to this S3 (the embedded one's socket) when given. */
  recordings?: { socketPath: string; bucket: string };
  /** Audit through the real writer into this store, spooling under spoolDir; none: no audit sink. */
  audit?: { socketPath: string; table: string; spoolDir: string };
}

/** Agent → bench, once it listens. */
export interface AgentReady {
  type: 'ready';
  port: number;
}

export type Command = { type: 'usage' } | { type: 'stop' };
/** The child's resident set size in bytes and the CPU time (user + system) it has used, in µs. */
export type Usage = {
  type: 'usage';
  rss: number;
  cpuMicros: number;
  heapUsed: number;
  external: number;
  /** The audit writer's counters, in a child that audits. */
  audit?: { written: number; spooled: number; dropped: number; pending: number };
};
export type CommandReply = Usage | { type: 'stopped' };

interface Typed {
  type: string;
}

function isTyped(value: unknown): value is Typed {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** The next message of the given type from a child; fails when the child exits or the time is up. */
export function nextMessage<T extends Typed>(child: ChildProcess, type: T['type'], timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: unknown) => {
      if (!isTyped(message) || message.type !== type) return;
      done();
      resolve(message as T);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      done();
      reject(new Error(`child process ${child.pid} exited (${signal ?? `code ${code}`}) before sending "${type}"`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`child process ${child.pid} sent no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Bench side: a child's current usage. */
export async function usageOf(child: ChildProcess): Promise<Usage> {
  const reply = nextMessage<Usage>(child, 'usage', 5_000);
  child.send({ type: 'usage' } satisfies Command);
  return reply;
}

/** Child side: sends one message to the bench, resolving once it is handed over. */
export function sendToParent<T extends Typed>(message: T): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('this file is a bench child process; start it with child_process.fork');
  return new Promise((resolve, reject) => {
    send(message, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve()));
  });
}

/**
 * Child side: answers 'usage' and 'stop' from the bench. `stop` closes what the child runs; the
 * process then exits. A child whose bench went away (IPC closed) exits too, so none outlives it.
 */
export function serveCommands(stop: () => Promise<void>, extra: () => Partial<Usage> = () => ({})): void {
  let stopping = false;
  const shutDown = async (reply: boolean) => {
    if (stopping) return;
    stopping = true;
    const hardExit = setTimeout(() => process.exit(0), 3_000);
    hardExit.unref();
    try {
      await stop();
    } catch (error) {
      process.stderr.write(`while stopping: ${String(error)}\n`);
    }
    if (reply && process.connected) await sendToParent({ type: 'stopped' } satisfies CommandReply).catch(() => undefined);
    process.exit(0);
  };
  process.on('message', (message: unknown) => {
    if (!isTyped(message)) return;
    const command = message as Command;
    if (command.type === 'usage') {
      const cpu = process.cpuUsage();
      const memory = process.memoryUsage();
      void sendToParent({
        type: 'usage',
        rss: memory.rss,
        cpuMicros: cpu.user + cpu.system,
        heapUsed: memory.heapUsed,
        external: memory.external,
        ...extra(),
      } satisfies Usage);
    } else if (command.type === 'stop') void shutDown(true);
  });
  process.on('disconnect', () => void shutDown(false));
}

/**
 * Child side: tells the bench it is listening (`ask`), then resolves with the bench's answer of
 * the given type. Asking first means no answer can arrive before there is a listener for it.
 */
export function askParent<T extends Typed>(ask: Typed, type: T['type']): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (!isTyped(message) || message.type !== type) return;
      process.off('message', onMessage);
      resolve(message as T);
    };
    process.on('message', onMessage);
    sendToParent(ask).catch(reject);
  });
}
