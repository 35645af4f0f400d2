// Recorded sessions written straight to the stores, as the agent leaves them: session.start,
// exec and session.end in the audit log (no session.end when the agent was killed), the
// asciicast file in the recording store in two parts.
import { randomUUID } from 'node:crypto';
import { type CastEvent, castEventLine, castHeaderLine } from '../../lib/core/asciicast.js';
import type { AuditEvent, AuditLog, RecordingStore } from '../../lib/core/ports.js';
import { auditCodes } from '../../lib/services/audit-events.js';

export interface SessionFixture {
  user: string;
  start: Date;
  events: CastEvent[];
  sid?: string;
  cluster?: string;
  namespace?: string;
  pod?: string;
  command?: string[];
  kind?: 'exec' | 'attach';
  /** kubectl exec without -t: the agent records its events but no recording. */
  noTerminal?: boolean;
  /** How it ended; absent: the agent was killed, so no session.end was written. */
  end?: { afterSeconds: number; exitCode: number };
  width?: number;
  height?: number;
}

export function castText(fixture: SessionFixture & { sid: string }): string[] {
  const header = castHeaderLine({
    version: 2,
    width: fixture.width ?? 80,
    height: fixture.height ?? 24,
    timestamp: Math.floor(fixture.start.getTime() / 1000),
    command: (fixture.command ?? ['sh']).join(' '),
    kubeport: {
      session_id: fixture.sid,
      user: fixture.user,
      cluster: fixture.cluster ?? 'dev',
      namespace: fixture.namespace ?? 'default',
      pod: fixture.pod ?? 'web-0',
      type: fixture.kind ?? 'exec',
    },
  });
  const lines = fixture.events.map(([seconds, type, data]) => castEventLine(seconds, type, data));
  const half = Math.ceil(lines.length / 2);
  return [header + lines.slice(0, half).join(''), lines.slice(half).join('')];
}

/** Writes the session's events and recording; returns its sid. */
export async function recordSession(audit: AuditLog, recordings: RecordingStore, fixture: SessionFixture): Promise<string> {
  const sid = fixture.sid ?? randomUUID();
  const kind = fixture.kind ?? 'exec';
  const common = {
    sid,
    user: fixture.user,
    user_roles: ['access'],
    kubernetes_cluster: fixture.cluster ?? 'dev',
    kubernetes_pod_name: fixture.pod ?? 'web-0',
    kubernetes_pod_namespace: fixture.namespace ?? 'default',
    resource_kind: `pods/${kind}`,
    proto: 'kube',
  };
  const event = (name: keyof typeof auditCodes, suffix: string, at: Date, fields: Record<string, unknown>): AuditEvent => ({
    event: name,
    code: auditCodes[name].success,
    time: at.toISOString(),
    uid: `${sid}/${suffix}`,
    ...common,
    ...fields,
  });
  const command = fixture.command ?? ['sh'];
  const interactive = fixture.noTerminal !== true;
  const events = [
    event('session.start', 'start', fixture.start, {
      initial_command: command,
      interactive,
      tty: interactive,
      session_recording: interactive ? 'node' : 'off',
      ...(interactive ? { size: '80x24' } : {}),
    }),
  ];
  if (fixture.end) {
    const stop = new Date(fixture.start.getTime() + fixture.end.afterSeconds * 1000);
    events.push(event('exec', 'exec', stop, { command: command.join(' '), exitCode: String(fixture.end.exitCode) }));
    events.push(
      event('session.end', 'end', stop, {
        session_start: fixture.start.toISOString(),
        session_stop: stop.toISOString(),
        interactive,
        initial_command: command,
      }),
    );
  }
  await audit.write(events);
  if (!interactive) return sid;
  const parts = castText({ ...fixture, sid });
  for (const [index, part] of parts.entries()) await recordings.putPart(sid, index, Buffer.from(part));
  return sid;
}
