// Lists, watches and followed logs. Lists page with limit/continue; watches and `logs -f` write
// an event or a line every interval until the stream's time is up (a server timeout ends them) or,
// with durationMs Infinity, until the client leaves.
import { matchesFields, parseFieldSelector } from './field-selector.js';
import type { Listed } from './fixtures.js';
import { type Reply, json, negotiate, statusReply, streamedReply, tableContentType } from './replies.js';
import type { RequestContext } from './routing.js';
import { type Column, tableBody } from './tables.js';
import type { StreamOptions } from './types.js';

/** Writes `first` at once, then `next()` every interval until the stream's time is up or the client leaves. */
export function stream(
  ctx: RequestContext,
  contentType: string,
  options: StreamOptions,
  next: (tick: number) => string,
  first = '',
): Reply {
  const { res, record } = ctx;
  record.status = 200;
  res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private' });
  if (first) res.write(first);
  else res.flushHeaders();
  let tick = 0;
  const timer = setInterval(() => {
    if (!res.writableEnded) res.write(next(++tick));
  }, options.intervalMs);
  // The interval stops first: both timers can be due in the same turn of the event loop.
  const end = Number.isFinite(options.durationMs)
    ? setTimeout(() => {
        clearInterval(timer);
        res.end();
      }, options.durationMs)
    : undefined;
  res.on('close', () => {
    clearInterval(timer);
    clearTimeout(end);
  });
  return streamedReply;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: T;
}
/** The event a watch sends at a tick; undefined sends nothing that tick. */
export type WatchSource<T> = (tick: number) => WatchEvent<T> | undefined;

/** Each tick one of the objects changes (MODIFIED), in turn. */
export function modifiedInTurn<T extends Listed>(items: T[]): WatchSource<T> {
  return (tick) => {
    const item = items[(tick - 1) % Math.max(items.length, 1)];
    if (!item) return undefined;
    return { type: 'MODIFIED', object: { ...item, metadata: { ...item.metadata, resourceVersion: String(1000 + tick) } } };
  };
}

function watchReply<T extends Listed>(ctx: RequestContext, source: WatchSource<T>, columns: Column<T>[], options: StreamOptions): Reply {
  const asTable = negotiate(ctx.req.headers.accept) === 'table';
  return stream(ctx, 'application/json', options, (tick) => {
    const event = source(tick);
    if (!event) return '';
    const { object } = event;
    const body = asTable
      ? JSON.parse(tableBody(columns, [object], { resourceVersion: object.metadata.resourceVersion }).toString())
      : object;
    return `${JSON.stringify({ type: event.type, object: body })}\n`;
  });
}

// Lists honour fieldSelector and limit/continue with an offset token; watch=true streams changes
// (of the selected objects only) instead.
export function listReply<T extends Listed>(
  ctx: RequestContext,
  kind: string,
  allItems: T[],
  columns: Column<T>[],
  resourceVersion: string,
  streams: StreamOptions,
  allChanges?: WatchSource<T>,
): Reply {
  const terms = parseFieldSelector(ctx.query.get('fieldSelector') ?? '');
  if ('error' in terms) return statusReply(400, 'BadRequest', terms.error);
  const items = allItems.filter((item) => matchesFields(item, terms));
  // Without a source of its own, each tick one of the selected objects changes.
  const watch: WatchSource<T> = allChanges
    ? (tick) => {
        const event = allChanges(tick);
        return event && matchesFields(event.object, terms) ? event : undefined;
      }
    : modifiedInTurn(items);
  if (/^(true|1)$/.test(ctx.query.get('watch') ?? '')) return watchReply(ctx, watch, columns, streams);
  const meta: Record<string, unknown> = { resourceVersion };
  let start = 0;
  const token = ctx.query.get('continue');
  if (token) {
    try {
      start = Number((JSON.parse(Buffer.from(token, 'base64').toString()) as { start?: unknown }).start);
    } catch {
      start = NaN;
    }
    if (!Number.isInteger(start) || start < 0) return statusReply(400, 'BadRequest', 'continue key is not valid');
  }
  const limit = Number(ctx.query.get('limit') ?? 0);
  const end = limit > 0 ? start + limit : items.length;
  const page = items.slice(start, end);
  if (end < items.length) {
    meta.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(resourceVersion), start: end })).toString('base64');
    meta.remainingItemCount = items.length - end;
  }
  if (negotiate(ctx.req.headers.accept) === 'table') {
    return { status: 200, body: tableBody(columns, page, meta), contentType: tableContentType };
  }
  return { status: 200, body: json({ kind, apiVersion: 'v1', metadata: meta, items: page }) };
}
