// Routes for finding and replaying sessions. Any certified user may call them: the service shows
// each caller their own sessions, and other people's only when a role rule on `session` allows it.
import { badRequest } from '../../lib/core/errors.js';
import type { ServiceDeps } from '../../lib/services/deps.js';
import { type RecordingsQuery, listRecordings, readRecording } from '../../lib/services/recordings.js';
import { signedCaller } from '../signed-caller.js';
import { type Route, type RouteContext, json } from '../http.js';

/** The asciicast v2 media type asciinema serves recordings with. */
export const CAST_CONTENT_TYPE = 'application/x-asciicast';

function timeParam(query: URLSearchParams, name: string): Date | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  const date = new Date(value);
  if (value === '' || Number.isNaN(date.getTime())) throw badRequest(`${name} must be an ISO 8601 time, e.g. 2026-01-31T12:00:00Z`);
  return date;
}

function recordingsQuery(ctx: RouteContext): RecordingsQuery {
  const query = new URLSearchParams(ctx.event.rawQueryString ?? '');
  const result: RecordingsQuery = {};
  const since = timeParam(query, 'since');
  const until = timeParam(query, 'until');
  if (since) result.since = since;
  if (until) result.until = until;
  for (const name of ['user', 'cluster', 'cursor'] as const) {
    const value = query.get(name);
    if (value !== null && value !== '') result[name] = value;
  }
  const limit = query.get('limit');
  if (limit !== null) {
    if (!/^\d{1,6}$/.test(limit)) throw badRequest('limit must be a whole number');
    result.limit = Number(limit);
  }
  return result;
}

export function recordingRoutes(deps: ServiceDeps): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/webapi/admin/recordings',
      handler: async (ctx) => {
        const caller = await signedCaller(deps, ctx);
        return json(200, await listRecordings(deps, caller, recordingsQuery(ctx)));
      },
    },
    {
      method: 'GET',
      pattern: '/webapi/admin/recordings/{sid}',
      handler: async (ctx) => {
        const caller = await signedCaller(deps, ctx);
        const { cast } = await readRecording(deps, caller, ctx.params.sid!);
        return {
          statusCode: 200,
          headers: { 'content-type': CAST_CONTENT_TYPE, 'cache-control': 'no-store' },
          body: cast.toString('utf8'),
        };
      },
    },
  ];
}
