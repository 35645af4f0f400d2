// Finding and replaying sessions, as Teleport allows it: everyone may list and play their own
// sessions; other people's need a role rule on resource `session` (list to see them, read to play
// them). A session another user cannot see is answered exactly as one that does not exist, so a
// guessed session id tells nothing.
import { ruleDenial, rulesAllow } from '../core/admin-rules.js';
import { mapBounded } from '../core/bounded-map.js';
import { accessDenied, badRequest, KubeportError, notFound } from '../core/errors.js';
import type { CertifiedIdentity } from '../core/identity.js';
import type { AuditEvent } from '../core/ports.js';
import { MAX_RECORDINGS_LIMIT, type SessionSummary, isSessionId, summarizeSession } from '../core/session-summary.js';
import { type AuditSearchRequest, auditQuery } from './audit-search.js';
import type { ServiceDeps } from './deps.js';
import { loadRoles } from './roles.js';

const DAY_MS = 86_400_000;
export const DEFAULT_RECORDINGS_LIMIT = 50;
/** A recording is read whole into memory to be played back: larger ones are refused, saying where they are. */
export const DEFAULT_MAX_PLAYBACK_BYTES = 256 * 1024 * 1024;
/** The per-session queries of one listing in flight at once. */
const SESSION_QUERY_CONCURRENCY = 16;
/** tsh recordings ls looks back a day unless told otherwise, as Teleport's does. */
const DEFAULT_SINCE = '24h';
/** How far back a session's own events are looked for: the audit log keeps no more than this by default. */
const SESSION_LOOKBACK_MS = 366 * DAY_MS;
/** More than any session writes (start, exec, end, upload, a few resizes are not events). */
const SESSION_EVENTS_LIMIT = 20;

/** The listing's settings as they arrive (query parameters): all text, all optional. */
export type RecordingsRequest = Pick<AuditSearchRequest, 'since' | 'until' | 'user' | 'cluster' | 'limit' | 'cursor'>;

export interface RecordingsPage {
  sessions: SessionSummary[];
  cursor?: string;
}

export const noRecordingMessage = (sid: string) => `no recording for session ${sid}`;

export async function listRecordings(deps: ServiceDeps, caller: CertifiedIdentity, request: RecordingsRequest): Promise<RecordingsPage> {
  if (request.limit !== undefined && /^\d{1,7}$/.test(request.limit) && Number(request.limit) > MAX_RECORDINGS_LIMIT)
    throw badRequest(
      `limit=${request.limit} is more than the ${MAX_RECORDINGS_LIMIT} sessions a page lists; ask for fewer and page on with the cursor`,
    );
  const query = auditQuery(
    { ...request, since: request.since ?? DEFAULT_SINCE, limit: request.limit ?? String(DEFAULT_RECORDINGS_LIMIT) },
    deps.clock.now(),
  );
  const roles = await loadRoles(deps.resources, caller.roles);
  let user = query.user;
  if (!rulesAllow(roles, 'session', 'list')) {
    if (user !== undefined && user !== caller.username) throw accessDenied(ruleDenial(roles, 'session', 'list'));
    user = caller.username;
  }
  const page = await deps.audit.search({ ...query, event: 'session.start', ...(user !== undefined ? { user } : {}) });
  // The index may hand back events beyond what was asked (another user's, another cluster's) only
  // by mistake; filtering again keeps a store bug from showing one user another's sessions.
  const starts = page.events.filter(
    (event) =>
      event.event === 'session.start' &&
      typeof event.sid === 'string' &&
      (user === undefined || event.user === user) &&
      (query.cluster === undefined || event.kubernetes_cluster === query.cluster),
  );
  const sessions = await mapBounded(starts, SESSION_QUERY_CONCURRENCY, async (start) =>
    summarizeSession(start, await sessionEvents(deps, start.sid as string)),
  );
  return { sessions, ...(page.cursor !== undefined ? { cursor: page.cursor } : {}) };
}

export interface Recording {
  session: SessionSummary;
  /** The asciicast v2 file, as stored (parts joined). */
  cast: Buffer;
}

export async function readRecording(deps: ServiceDeps, caller: CertifiedIdentity, sid: string): Promise<Recording> {
  if (!isSessionId(sid))
    throw badRequest(`${JSON.stringify(sid.slice(0, 80))} is not a session id (a UUID, as tsh recordings ls shows them)`);
  const events = await sessionEvents(deps, sid);
  const start = events.find((event) => event.event === 'session.start');
  if (!start) throw notFound(noRecordingMessage(sid));
  if (start.user !== caller.username) {
    const roles = await loadRoles(deps.resources, caller.roles);
    // Someone who may not even list other people's sessions learns nothing about this one.
    if (!rulesAllow(roles, 'session', 'list') && !rulesAllow(roles, 'session', 'read')) throw notFound(noRecordingMessage(sid));
    if (!rulesAllow(roles, 'session', 'read')) throw accessDenied(ruleDenial(roles, 'session', 'read'));
  }
  if (start.session_recording === 'off') {
    const why = start.interactive === false ? 'it had no terminal (kubectl exec without -t)' : 'recording was off';
    throw notFound(`session ${sid} was not recorded: ${why}; its command, exit code and bytes are in the audit log`);
  }
  if (!deps.recordings)
    throw new KubeportError('not_found', `session recordings are not stored by this Kubeport; ${noRecordingMessage(sid)}`);
  const cast = await deps.recordings.read(sid, deps.maxPlaybackBytes ?? DEFAULT_MAX_PLAYBACK_BYTES);
  if (!cast || cast.length === 0) throw notFound(noRecordingMessage(sid));
  return { session: summarizeSession(start, events), cast };
}

async function sessionEvents(deps: ServiceDeps, sid: string): Promise<AuditEvent[]> {
  const now = deps.clock.now();
  const page = await deps.audit.search({
    sessionId: sid,
    from: new Date(now.getTime() - SESSION_LOOKBACK_MS),
    to: new Date(now.getTime() + DAY_MS),
    limit: SESSION_EVENTS_LIMIT,
  });
  return page.events.filter((event) => event.sid === sid);
}
