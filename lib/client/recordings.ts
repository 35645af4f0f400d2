// What tsh recordings ls and tsh play ask the proxy: the sessions the login may see, a page at a
// time, and one session's recording, signed with the login's certificate key.
import { isSessionId } from '../core/session-summary.js';
import type { SessionSummary } from '../core/session-summary.js';
import { apiAudience } from '../core/signed-request.js';
import { ClientError } from './api-client.js';
import { cliCommand } from './command-hint.js';
import type { TshDeps } from './commands/deps.js';
import type { Profile, ProfileKeys } from './profile-store.js';
import { UsageError } from './usage-error.js';

export interface RecordingsFilter {
  since: Date;
  until?: Date;
  user?: string;
  cluster?: string;
  /** Sessions wanted in all; pages are followed until there are this many or no more. */
  limit: number;
}

const PAGE_SIZE = 100;

export async function listSessions(
  deps: Pick<TshDeps, 'api'>,
  profile: Profile,
  keys: ProfileKeys,
  filter: RecordingsFilter,
): Promise<SessionSummary[]> {
  const api = deps.api(profile.proxy, apiAudience(profile.cluster));
  const sessions: SessionSummary[] = [];
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({
      since: filter.since.toISOString(),
      limit: String(Math.min(PAGE_SIZE, filter.limit - sessions.length)),
    });
    if (filter.until) query.set('until', filter.until.toISOString());
    if (filter.user) query.set('user', filter.user);
    if (filter.cluster) query.set('cluster', filter.cluster);
    if (cursor) query.set('cursor', cursor);
    const page = await api.call<{ sessions: SessionSummary[]; cursor?: string }>(
      'GET',
      `/webapi/admin/recordings?${query}`,
      undefined,
      keys,
    );
    sessions.push(...page.sessions);
    cursor = page.cursor;
  } while (cursor && sessions.length < filter.limit);
  return sessions;
}

/** The asciicast v2 file of one session, as stored. */
export async function fetchRecording(deps: Pick<TshDeps, 'api'>, profile: Profile, keys: ProfileKeys, sid: string): Promise<string> {
  const hint = `${cliCommand('tsh')} recordings ls lists them`;
  if (!isSessionId(sid)) throw new UsageError(`${JSON.stringify(sid)} is not a session id (a UUID); ${hint}`);
  const api = deps.api(profile.proxy, apiAudience(profile.cluster));
  try {
    return await api.text('GET', `/webapi/admin/recordings/${encodeURIComponent(sid)}`, keys);
  } catch (error) {
    if (error instanceof ClientError && error.status === 404 && error.message.startsWith('no recording'))
      throw new ClientError(`${error.message}; ${hint}`, 404, error.serverCode);
    throw error;
  }
}
