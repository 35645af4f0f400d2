// tctl audit search --since=1h [--until=…] [--user=alice] [--type=kube.request] [--cluster=prod]
// [--namespace=…] [--session=ID] [--limit=N] [--format=text|json] [--cursor=…]: one page of the
// audit log, newest first. When more events match, standard error gets the exact command for the
// next page, with since and until fixed to the times this page was searched over, so the pages
// follow one another however long the reader takes.
import type { AuditEvent } from '../../core/ports.js';
import { parseTimeBound } from '../../core/time-bound.js';
import { terminalSafe } from '../terminal-text.js';
import { textTable } from '../text-table.js';
import type { AuditSearchRequest } from '../../services/audit-search.js';
import { UsageError } from '../usage-error.js';
import type { TctlDeps } from './deps.js';

/** The search's settings as flags give them, plus how to print them. */
export interface AuditSearchOptions extends AuditSearchRequest {
  format?: string;
  /** tctl's own flags as given (--data-dir, --identity, --proxy), repeated in the next-page command. */
  globalFlags?: string[];
}

const MAX_LIMIT = 1000;
const WHAT_CHARS = 60;

function timeFlag(name: 'since' | 'until', value: string, now: Date): Date {
  const at = parseTimeBound(value, now);
  if (!at)
    throw new UsageError(
      `--${name}=${value} is neither a duration back from now (30m, 1h, 7d) nor an RFC 3339 time (2026-12-02T10:00:00Z)`,
    );
  return at;
}

/** A shell word for `value`: as is when it is plain, else in single quotes. */
const shellWord = (value: string) => (/^[A-Za-z0-9@%+=:,./_-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);

const text = (value: unknown) => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined);

/** What the event did: the request, the command run, or the resource or session it was about. */
function what(event: AuditEvent): string {
  const command = Array.isArray(event.command) ? event.command.map(String).join(' ') : text(event.command);
  if (command !== undefined) return command;
  const verb = text(event.verb);
  const path = text(event.request_path);
  if (verb !== undefined || path !== undefined) return [verb, path].filter(Boolean).join(' ');
  const pod = text(event.kubernetes_pod_name);
  if (pod !== undefined) return `pod ${[text(event.kubernetes_pod_namespace), pod].filter(Boolean).join('/')}`;
  const resource = [text(event.resource_kind), text(event.resource_namespace), text(event.resource_name)].filter(Boolean).join('/');
  if (resource !== '') return resource;
  return text(event.name) ?? text(event.method) ?? '';
}

function result(event: AuditEvent): string {
  const code = text(event.response_code);
  if (code !== undefined) return code;
  const exit = text(event.exitCode);
  if (exit !== undefined) return `exit ${exit}`;
  if (event.success === true) return 'success';
  if (event.success === false) return 'failure';
  return '';
}

const cell = (value: string, max = Number.POSITIVE_INFINITY) => {
  const safe = terminalSafe(value).replace(/\n/g, ' ');
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
};

export function auditTable(events: AuditEvent[]): string {
  const rows = events.map((event) => [
    cell(text(event.time)?.replace(/\.\d+Z$/, 'Z') ?? ''),
    cell(event.event),
    cell(text(event.user) ?? ''),
    cell(text(event.kubernetes_cluster) ?? ''),
    cell(what(event), WHAT_CHARS),
    cell(result(event)),
    cell(text(event.audit_id)?.slice(0, 8) ?? ''),
  ]);
  return textTable(['TIME', 'EVENT', 'USER', 'CLUSTER', 'WHAT', 'RESULT', 'AUDIT-ID'], rows);
}

export async function run(options: AuditSearchOptions, deps: TctlDeps): Promise<void> {
  const format = options.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format=${format} is not a format; use text or json`);
  if (options.limit !== undefined) {
    const limit = /^\d{1,7}$/.test(options.limit) ? Number(options.limit) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new UsageError(`--limit=${options.limit} is not a number from 1 to ${MAX_LIMIT}`);
  }
  const now = deps.clock.now();
  const until = options.until !== undefined ? timeFlag('until', options.until, now) : now;
  const since = timeFlag('since', options.since ?? '1h', now);
  if (since > until) {
    throw new UsageError(`--since (${since.toISOString()}) is after --until (${until.toISOString()}); give a --since before --until`);
  }
  const settings: [string, string | undefined][] = [
    ['since', since.toISOString()],
    ['until', until.toISOString()],
    ['user', options.user],
    ['type', options.type],
    ['cluster', options.cluster],
    ['namespace', options.namespace],
    ['session', options.session],
    ['limit', options.limit],
  ];
  const given = settings.filter((setting): setting is [string, string] => setting[1] !== undefined);
  const query = new URLSearchParams([...given, ...(options.cursor !== undefined ? [['cursor', options.cursor]] : [])]);
  const client = await deps.admin();
  const page = await client.call<{ events: AuditEvent[]; cursor?: string }>('GET', `/webapi/admin/audit/events?${query}`);
  deps.out.stdout.write(format === 'json' ? `${JSON.stringify(page.events, null, 2)}\n` : auditTable(page.events));
  if (page.cursor !== undefined) {
    const next = [
      'tctl',
      ...(options.globalFlags ?? []),
      'audit',
      'search',
      ...given.map(([name, value]) => `--${name}=${value}`),
      ...(options.format !== undefined ? [`--format=${format}`] : []),
      `--cursor=${page.cursor}`,
    ];
    deps.out.stderr.write(`More events match; next page: ${next.map(shellWord).join(' ')}\n`);
  }
}
