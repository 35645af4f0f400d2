// Lists and watches of a writable store. Lists page with limit/continue as the API server does
// (kubectl get asks for 500 at a time): the continue token names the last key served, so objects
// created or deleted between pages neither repeat nor shift the rest. Watches write each change
// the moment it happens, filtered by the field and label selectors, until timeoutSeconds (or the
// server's stream duration) is up or the client leaves.
import { matchesFields, parseFieldSelector } from './field-selector.js';
import { matchesLabels, parseLabelSelector } from './label-selector.js';
import type { ApiObject, Change, ObjectStore, Revision } from './object-store.js';
import { type Reply, json, negotiate, statusReply, streamedReply, tableContentType } from './replies.js';
import type { RequestContext } from './routing.js';
import { type Column, tableBody } from './tables.js';
import type { StreamOptions } from './types.js';

const keyOf = (o: ApiObject) => `${o.metadata.namespace}/${o.metadata.name}`;

function selection(ctx: RequestContext): ((o: ApiObject) => boolean) | { error: string } {
  const fields = parseFieldSelector(ctx.query.get('fieldSelector') ?? '');
  if ('error' in fields) return fields;
  const labels = parseLabelSelector(ctx.query.get('labelSelector') ?? '');
  if ('error' in labels) return labels;
  return (o) => matchesFields(o, fields) && matchesLabels(o.metadata.labels, labels);
}

export function listOrWatch(
  ctx: RequestContext,
  store: ObjectStore,
  revision: Revision,
  columns: Column<ApiObject>[],
  streams: StreamOptions,
  namespace?: string,
): Reply {
  const selected = selection(ctx);
  if ('error' in selected) return statusReply(400, 'BadRequest', selected.error);
  if (/^(true|1)$/.test(ctx.query.get('watch') ?? '')) return watch(ctx, store, columns, streams, selected, namespace);

  const items = store.list(namespace);
  let start = 0;
  let rv = String(revision.current());
  const token = ctx.query.get('continue');
  if (token) {
    let after: unknown;
    try {
      ({ start: after, rv } = JSON.parse(Buffer.from(token, 'base64').toString()) as { start: unknown; rv: string });
    } catch {
      after = undefined;
    }
    if (typeof after !== 'string') return statusReply(400, 'BadRequest', 'continue key is not valid');
    // The first key after the last one served (keys are sorted).
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keyOf(items[mid]!) <= after) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const limit = Number(ctx.query.get('limit') ?? 0);
  const page: ApiObject[] = [];
  let i = start;
  for (; i < items.length && (!(limit > 0) || page.length < limit); i++) if (selected(items[i]!)) page.push(items[i]!);
  const meta: Record<string, unknown> = { resourceVersion: rv };
  const rest = items.length - i;
  if (rest > 0 && page.length > 0) {
    meta.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: keyOf(page.at(-1)!) })).toString('base64');
    // Only known exactly without a selector, as on the API server.
    if (!ctx.query.get('fieldSelector') && !ctx.query.get('labelSelector')) meta.remainingItemCount = rest;
  }
  if (negotiate(ctx.req.headers.accept) === 'table')
    return { status: 200, body: tableBody(columns, page, meta), contentType: tableContentType };
  return { status: 200, body: json({ kind: `${store.kind}List`, apiVersion: 'v1', metadata: meta, items: page }) };
}

function watch(
  ctx: RequestContext,
  store: ObjectStore,
  columns: Column<ApiObject>[],
  streams: StreamOptions,
  selected: (o: ApiObject) => boolean,
  namespace: string | undefined,
): Reply {
  const { res, record } = ctx;
  const asTable = negotiate(ctx.req.headers.accept) === 'table';
  const rv = ctx.query.get('resourceVersion') ?? '';
  record.status = 200;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  const send = (change: Change) => {
    const { object } = change;
    if (namespace !== undefined && object.metadata.namespace !== namespace) return;
    if (!selected(object) || res.writableEnded) return;
    const body = asTable
      ? JSON.parse(tableBody(columns, [object], { resourceVersion: object.metadata.resourceVersion }).toString())
      : object;
    res.write(`${JSON.stringify({ type: change.type, object: body })}\n`);
  };
  // Without a resourceVersion (or "0") a watch starts with every object as ADDED, as the API server's does.
  if (rv === '' || rv === '0') for (const object of store.list(namespace)) send({ type: 'ADDED', object });
  const unsubscribe = store.watch(rv === '' || rv === '0' ? undefined : Number(rv), send);
  const seconds = Number(ctx.query.get('timeoutSeconds') ?? NaN);
  const durationMs = seconds > 0 ? seconds * 1000 : streams.durationMs;
  const end = Number.isFinite(durationMs) ? setTimeout(() => res.end(), durationMs) : undefined;
  res.on('close', () => {
    unsubscribe();
    clearTimeout(end);
  });
  return streamedReply;
}
