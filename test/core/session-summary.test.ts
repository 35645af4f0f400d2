// A session's line in tsh recordings ls, read off its audit events as the agent writes them.
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../lib/core/ports.js';
import { isSessionId, summarizeSession } from '../../lib/core/session-summary.js';

const SID = '0b5c3f7e-8a51-4c1e-9d7a-2f0c6b1d9e42';
const event = (name: string, time: string, fields: Record<string, unknown> = {}): AuditEvent => ({
  event: name,
  code: 'T0000I',
  time,
  uid: `${SID}/${name}`,
  sid: SID,
  user: 'alice',
  ...fields,
});
const start = event('session.start', '2026-12-02T10:00:00.000Z', {
  kubernetes_cluster: 'prod',
  kubernetes_pod_namespace: 'shop',
  kubernetes_pod_name: 'web-0',
  kubernetes_container_name: 'app',
  resource_kind: 'pods/attach',
  initial_command: [],
  interactive: true,
});

describe('summarizeSession', () => {
  it('takes the end, the duration and the exit code from session.end and exec', () => {
    const summary = summarizeSession(start, [
      event('exec', '2026-12-02T10:01:30.000Z', { exitCode: '2', command: 'sh' }),
      event('session.end', '2026-12-02T10:01:30.000Z', { session_start: start.time, session_stop: '2026-12-02T10:01:30.000Z' }),
    ]);
    expect(summary).toEqual({
      sid: SID,
      type: 'attach',
      user: 'alice',
      cluster: 'prod',
      namespace: 'shop',
      pod: 'web-0',
      container: 'app',
      command: 'sh',
      interactive: true,
      started: start.time,
      ended: '2026-12-02T10:01:30.000Z',
      duration_ms: 90_000,
      end: 'ended',
      exit_code: 2,
    });
  });

  it('leaves a session without session.end open, and ignores events of other sessions', () => {
    const other = { ...event('session.end', '2026-12-02T10:05:00.000Z'), sid: 'another' };
    const summary = summarizeSession(start, [other]);
    expect(summary.end).toBe('unknown');
    expect(summary).not.toHaveProperty('ended');
    expect(summary).not.toHaveProperty('exit_code');
  });
});

describe('isSessionId', () => {
  it.each([SID, SID.toUpperCase()])('takes the agent’s UUIDs: %s', (sid) => expect(isSessionId(sid)).toBe(true));
  it.each(['', '..', 'sessions/x', `${SID}/../x`, `${SID}.cast`, `${SID}\n`, SID.replace(/-/g, '')])('refuses anything else: %j', (sid) =>
    expect(isSessionId(sid)).toBe(false),
  );
});
