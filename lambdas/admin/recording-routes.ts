// Routes for finding and replaying sessions. Any certified user may call them: the service shows
// each caller their own sessions, and other people's only when a role rule on `session` allows it.
import { badRequest } from '../../lib/core/errors.js';
import type { ServiceDeps } from '../../lib/services/deps.js';
import { type RecordingsRequest, listRecordings, readRecording } from '../../lib/services/recordings.js';
import type { CertifiedIdentity } from '../../lib/core/identity.js';
import { type Route, type RouteContext, json } from '../http.js';

/** The asciicast v2 media type asciinema serves recordings with. */
export const CAST_CONTENT_TYPE = 'application/x-asciicast';

const PARAMETERS = ['since', 'until', 'user', 'cluster', 'limit', 'cursor'] as const;

/** The listing's settings from the query string; a parameter it does not take, or one given twice, is refused by name. */
function recordingsRequest(ctx: RouteContext): RecordingsRequest {
  const request: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(ctx.event.rawQueryString ?? '')) {
    if (!(PARAMETERS as readonly string[]).includes(name))
      throw badRequest(`unknown parameter ${name}; the listing takes ${PARAMETERS.join(', ')}`);
    if (name in request) throw badRequest(`${name} is given twice; give it once`);
    request[name] = value;
  }
  return request;
}

export function recordingRoutes(deps: ServiceDeps, prefix: string, callerOf: (ctx: RouteContext) => Promise<CertifiedIdentity>): Route[] {
  return [
    {
      method: 'GET',
      pattern: `${prefix}/recordings`,
      handler: async (ctx) => {
        const caller = await callerOf(ctx);
        return json(200, await listRecordings(deps, caller, recordingsRequest(ctx)));
      },
    },
    {
      method: 'GET',
      pattern: `${prefix}/recordings/{sid}`,
      handler: async (ctx) => {
        const caller = await callerOf(ctx);
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
