// The cursor a page of audit events ends with: the sort key of its last event and a fingerprint
// of the filters it was found with, base64url JSON. It only says where to go on; the query's own
// range and filters still bound every page, so a forged cursor cannot show more than the query.
import { createHash } from 'node:crypto';
import { badRequest } from '../../core/errors.js';
import type { AuditQuery } from '../../core/ports.js';

const VERSION = 1;
const MAX_CURSOR_CHARS = 2048;
const SORT_KEY = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)#(.+)$/s;

/** Which events a search is about (the range aside): a cursor belongs to one such search. */
function fingerprint(query: AuditQuery): string {
  const filters = [query.event, query.user, query.cluster, query.namespace, query.sessionId];
  return createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 16);
}

export function encodeCursor(query: AuditQuery, lastSortKey: string): string {
  return Buffer.from(JSON.stringify({ v: VERSION, sk: lastSortKey, f: fingerprint(query) })).toString('base64url');
}

const refused = (why: string) =>
  badRequest(
    `cursor is not valid: ${why}; pass the cursor the previous page printed, with the same filters, or leave it out to start again`,
  );

/** The sort key to go on after; refuses anything this adapter did not hand out for this search. */
export function decodeCursor(query: AuditQuery, cursor: string): string {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw refused('it is not a cursor');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refused('it is not a cursor');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw refused('it is not a cursor');
  const { v, sk, f, ...rest } = parsed as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || v !== VERSION || typeof sk !== 'string' || typeof f !== 'string') {
    throw refused('it is not a cursor');
  }
  const match = SORT_KEY.exec(sk);
  const time = match ? Date.parse(match[1]!) : NaN;
  if (!match || Number.isNaN(time) || new Date(time).toISOString() !== match[1]) throw refused('it does not point at an event');
  if (f !== fingerprint(query)) throw refused('it belongs to a search with other filters');
  if (time < query.from.getTime() || time > query.to.getTime()) throw refused('it points outside the time range searched');
  return sk;
}
