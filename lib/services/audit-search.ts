// Audit search as tctl and the admin API ask for it: settings checked one by one (the message
// names the bad one and how to write it), then one page from the audit log, newest first.
import { badRequest } from '../core/errors.js';
import type { AuditPage, AuditQuery } from '../core/ports.js';
import { parseTimeBound } from '../core/time-bound.js';
import type { ServiceDeps } from './deps.js';

export const DEFAULT_SEARCH_LIMIT = 100;
export const MAX_SEARCH_LIMIT = 1000;
const DEFAULT_SINCE_MS = 3_600_000;
const MAX_FILTER_CHARS = 253;
const MAX_CURSOR_CHARS = 2048;

/** The settings as they arrive (query parameters, flags): all text, all optional. */
export interface AuditSearchRequest {
  since?: string;
  until?: string;
  user?: string;
  type?: string;
  cluster?: string;
  namespace?: string;
  session?: string;
  limit?: string;
  cursor?: string;
}

function timeSetting(name: 'since' | 'until', value: string | undefined, now: Date): Date | undefined {
  if (value === undefined) return undefined;
  const at = parseTimeBound(value, now);
  if (!at) {
    throw badRequest(`${name}=${value} is neither a duration back from now (30m, 1h, 7d) nor an RFC 3339 time (2026-12-02T10:00:00Z)`);
  }
  return at;
}

function filterSetting(name: string, value: string | undefined, pattern?: RegExp): string | undefined {
  if (value === undefined) return undefined;
  if (value === '') throw badRequest(`${name} is empty; give a value or leave ${name} out`);
  // Control characters never occur in names; they would only garble the answer.
  if (value.length > MAX_FILTER_CHARS || /\p{Cc}/u.test(value) || (pattern && !pattern.test(value))) {
    throw badRequest(`${name}=${JSON.stringify(value.slice(0, 64))} is not a valid ${name}`);
  }
  return value;
}

function limitSetting(value: string | undefined): number {
  if (value === undefined) return DEFAULT_SEARCH_LIMIT;
  const limit = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= MAX_SEARCH_LIMIT)) {
    throw badRequest(`limit=${value} is not a number from 1 to ${MAX_SEARCH_LIMIT}`);
  }
  return limit;
}

/** The query a request stands for; refuses the first bad setting, naming it. */
export function auditQuery(request: AuditSearchRequest, now: Date): AuditQuery {
  const to = timeSetting('until', request.until, now) ?? now;
  const from = timeSetting('since', request.since, now) ?? new Date(to.getTime() - DEFAULT_SINCE_MS);
  if (from > to) {
    throw badRequest(`since (${from.toISOString()}) is after until (${to.toISOString()}); give a since before until`);
  }
  const event = filterSetting('type', request.type, /^[A-Za-z0-9._-]+$/);
  const user = filterSetting('user', request.user);
  const cluster = filterSetting('cluster', request.cluster);
  const namespace = filterSetting('namespace', request.namespace);
  const sessionId = filterSetting('session', request.session);
  if (request.cursor !== undefined && (request.cursor === '' || request.cursor.length > MAX_CURSOR_CHARS)) {
    throw badRequest('cursor is not valid; pass the cursor the previous page printed, or leave it out to start again');
  }
  return {
    from,
    to,
    limit: limitSetting(request.limit),
    ...(event !== undefined ? { event } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(cluster !== undefined ? { cluster } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(sessionId !== undefined ? { sessionId } : {}),
    ...(request.cursor !== undefined ? { cursor: request.cursor } : {}),
  };
}

/** One page of matching events, newest first; its cursor (if any) fetches the next page. */
export async function searchAudit(deps: Pick<ServiceDeps, 'audit' | 'clock'>, request: AuditSearchRequest): Promise<AuditPage> {
  return deps.audit.search(auditQuery(request, deps.clock.now()));
}
