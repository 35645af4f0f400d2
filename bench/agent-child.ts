// Starts bench/agent-process.ts and hands it its configuration; resolves once it listens.
import type { ChildProcess } from 'node:child_process';
import { type AgentReady, type AgentStart, type AgentWaiting, nextMessage } from './ipc.js';
import { startChild } from './processes.js';

/** `started` gets the child at once, so the caller can stop it even if it never gets ready. */
export async function startAgentChild(
  start: Omit<AgentStart, 'type'>,
  started: (child: ChildProcess) => void,
): Promise<{ child: ChildProcess; port: number }> {
  const child = startChild('./agent-process.ts');
  started(child);
  await nextMessage<AgentWaiting>(child, 'waiting', 30_000);
  const ready = nextMessage<AgentReady>(child, 'ready', 30_000);
  child.send({ type: 'start', ...start } satisfies AgentStart);
  return { child, port: (await ready).port };
}
