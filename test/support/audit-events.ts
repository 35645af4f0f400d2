import type { AuditEvent, AuditLog, AuditQuery } from '../../lib/core/ports.js';

/** One page of matching events, newest first (tests read small logs). */
export async function searchEvents(log: AuditLog, query: AuditQuery): Promise<AuditEvent[]> {
  return (await log.search(query)).events;
}
