// One line of `tsh recordings ls`: a session as its audit events tell it. session.start opens
// it; session.end (and, for exec, the exec event with its exit code) close it. A session with no
// session.end is one whose agent stopped before it ended, or one still running: it is listed all
// the same, because its recording is there up to its last uploaded part.
import type { AuditEvent } from './ports.js';

export interface SessionSummary {
  sid: string;
  /** exec or attach */
  type: string;
  user: string;
  cluster: string;
  namespace: string;
  pod: string;
  container?: string;
  command: string;
  interactive: boolean;
  /** ISO time the session started. */
  started: string;
  /** ISO time it ended; absent while no session.end exists. */
  ended?: string;
  duration_ms?: number;
  /** ended: session.end is logged; unknown: it is not (the agent was killed, or it still runs). */
  end: 'ended' | 'unknown';
  exit_code?: number;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function commandOf(event: AuditEvent | undefined): string | undefined {
  const command = event?.initial_command ?? event?.command;
  const words = Array.isArray(command) ? command.map(String).join(' ') : text(command);
  return words || undefined;
}

/** exec or attach, from the subresource the session's upgrade asked for (pods/exec, pods/attach). */
function sessionType(start: AuditEvent): string {
  const kind = text(start.resource_kind) ?? '';
  return kind.startsWith('pods/') ? kind.slice('pods/'.length) : 'exec';
}

/** `related`: the session's other events (any order); events of other sessions are ignored. */
export function summarizeSession(start: AuditEvent, related: readonly AuditEvent[]): SessionSummary {
  const sid = String(start.sid);
  const mine = related.filter((event) => event.sid === sid);
  const end = mine.find((event) => event.event === 'session.end');
  const exec = mine.find((event) => event.event === 'exec');
  const started = text(end?.session_start) ?? start.time;
  const summary: SessionSummary = {
    sid,
    type: sessionType(start),
    user: start.user ?? '',
    cluster: text(start.kubernetes_cluster) ?? '',
    namespace: text(start.kubernetes_pod_namespace) ?? text(start.resource_namespace) ?? '',
    pod: text(start.kubernetes_pod_name) ?? text(start.resource_name) ?? '',
    command: commandOf(start) ?? commandOf(end) ?? commandOf(exec) ?? '',
    interactive: start.interactive !== false && end?.interactive !== false,
    started,
    end: end ? 'ended' : 'unknown',
  };
  const container = text(start.kubernetes_container_name);
  if (container) summary.container = container;
  const ended = end ? (text(end.session_stop) ?? end.time) : undefined;
  if (ended) {
    summary.ended = ended;
    summary.duration_ms = Math.max(0, Date.parse(ended) - Date.parse(started));
  }
  const exitCode = Number(exec?.exitCode ?? end?.exitCode);
  if (exec?.exitCode !== undefined || end?.exitCode !== undefined) {
    if (Number.isInteger(exitCode)) summary.exit_code = exitCode;
  }
  return summary;
}

/** Session ids are the agent's request ids (UUIDs): anything else is refused before it reaches a store key. */
export function isSessionId(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** Each listed session costs a store query of its own: a listing shows no more than this at once. */
export const MAX_RECORDINGS_LIMIT = 200;
