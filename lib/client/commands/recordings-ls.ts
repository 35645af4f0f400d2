// tsh recordings ls: the sessions this login may see (its own, or everyone's with a role rule on
// session), newest first, as a table or JSON.
import { humanDuration } from '../../core/human-duration.js';
import { MAX_RECORDINGS_LIMIT, type SessionSummary } from '../../core/session-summary.js';
import { parseTimeBound } from '../../core/time-bound.js';
import { listSessions } from '../recordings.js';
import { currentProfile, requireValid } from '../session.js';
import { terminalSafe } from '../terminal-text.js';
import { textTable } from '../text-table.js';
import { Problems } from '../tsh-config.js';
import type { TshDeps } from './deps.js';

export const DEFAULT_SINCE = '24h';
export const DEFAULT_LIMIT = 50;

export interface RecordingsLsOptions {
  proxy?: string;
  format: 'text' | 'json';
  /** A duration back from now (1h, 7d) or an RFC 3339 time. */
  since?: string;
  until?: string;
  user?: string;
  cluster?: string;
  limit?: string;
}

function pointInTime(value: string, now: Date, flag: string): Date {
  const at = parseTimeBound(value, now);
  if (!at) throw new Error(`${flag} ${value} is neither a duration back from now (30m, 1h, 7d) nor a time (2026-12-02T10:00:00Z)`);
  return at;
}

const endText = (s: SessionSummary) =>
  s.end === 'unknown' ? 'abnormal/in progress' : s.exit_code === undefined ? 'ended' : `exit ${s.exit_code}`;

const startedText = (iso: string) => iso.replace(/\.\d+Z$/, 'Z');

/** A cell on one line with no control characters: the command comes from the exec query, where %1B is ESC. */
const cell = (value: string) => terminalSafe(value).replace(/\n/g, ' ');

export async function run(options: RecordingsLsOptions, deps: TshDeps): Promise<void> {
  const { profile, keys } = currentProfile(deps.store, options.proxy);
  const now = deps.clock.now();
  requireValid(profile, keys, now);
  const problems = new Problems();
  const since = problems.check(() => pointInTime(options.since ?? DEFAULT_SINCE, now, '--since'));
  const until = options.until === undefined ? undefined : problems.check(() => pointInTime(options.until!, now, '--until'));
  const limit = Number(options.limit ?? DEFAULT_LIMIT);
  if (!Number.isInteger(limit) || limit < 1) problems.add(`--limit ${options.limit} is not a positive whole number`);
  else if (limit > MAX_RECORDINGS_LIMIT)
    problems.add(`--limit ${limit} is more than the ${MAX_RECORDINGS_LIMIT} sessions a listing shows; narrow it with --since and --until`);
  problems.throwIfAny();
  const sessions = await listSessions(deps, profile, keys, {
    since: since!,
    limit,
    ...(until ? { until } : {}),
    ...(options.user ? { user: options.user } : {}),
    ...(options.cluster ? { cluster: options.cluster } : {}),
  });
  if (options.format === 'json') {
    deps.out.stdout.write(`${JSON.stringify(sessions, null, 2)}\n`);
    return;
  }
  deps.out.stdout.write(
    textTable(
      ['ID', 'Type', 'User', 'Cluster', 'Pod', 'Command', 'Started', 'Duration', 'End'],
      sessions.map((s) =>
        [
          s.sid,
          s.interactive ? s.type : `${s.type} (no tty)`,
          s.user,
          s.cluster,
          s.namespace ? `${s.namespace}/${s.pod}` : s.pod,
          s.command,
          startedText(s.started),
          s.duration_ms === undefined ? '' : humanDuration(s.duration_ms),
          endText(s),
        ].map(cell),
      ),
    ),
  );
}
