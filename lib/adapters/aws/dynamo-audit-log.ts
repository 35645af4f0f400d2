import { mapBounded } from '../../core/bounded-map.js';
import { type AttributeValue, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent, AuditLog, AuditPage, AuditQuery, Clock } from '../../core/ports.js';
import { putItemsCommand } from './audit-batch-write.js';
import { decodeCursor, encodeCursor } from './audit-cursor.js';
import { type AuditItem, DAY_MS, auditItem, dayOf, itemAttributes } from './audit-item.js';
import { AUDIT_NAMESPACE_INDEX, AUDIT_SESSION_INDEX, AUDIT_TYPE_INDEX, AUDIT_USER_INDEX } from './dynamo-tables.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
// Items read per page of a filtered query at most (DynamoDB also stops a page at 1 MB).
const MAX_FILTERED_PAGE = 2000;
// DynamoDB's cap on one BatchWriteItem.
const BATCH_ITEMS = 25;

export interface DynamoAuditLogOptions {
  /** Partitions per day (and per user and event type per day). */
  shards?: number;
  retentionDays?: number;
  /** Batches of 25 written at once by one write(). */
  concurrency?: number;
  /** Tries of one batch before write() gives up on it (unprocessed items are retried). */
  maxAttempts?: number;
  /** For the backoff between retries of unprocessed items. */
  sleep?: (ms: number) => Promise<void>;
  /** [0, 1): the jitter of that backoff. */
  random?: () => number;
  /**
   * Write each event with its own PutItem, never BatchWriteItem: IAM cannot allow a batch's puts
   * without its deletes, so a writer that faces the internet (the agent) is granted PutItem only.
   */
  putOnly?: boolean;
}

/** One key range read newest first: a base-table or index partition. */
interface Partition {
  index?: string;
  key: 'pk' | 'user_pk' | 'type_pk' | 'namespace_pk' | 'sid';
  value: string;
}

interface Found {
  sk: string;
  event: string;
}

type ChosenIndex = 'session' | 'user' | 'type' | 'namespace' | 'table';

// Event types that make up most of the stream: their partition of the type index is nearly the
// whole day, so a namespace narrows a search far more than they do.
const BULK_EVENT_TYPES = new Set(['kube.request']);

/**
 * The index that reads the fewest items for `query`; the other filters are applied in DynamoDB.
 * A session is a handful of events and a user's day a small share of all traffic. Between a type
 * and a namespace: every type but kube.request is rare (sessions, ports, logins and resource
 * changes follow people, not workloads) and some never have a namespace, while one namespace can
 * carry a large share of the requests; kube.request, though, is most of the stream, where any
 * namespace is the narrower read.
 */
function chooseIndex(query: AuditQuery): ChosenIndex {
  if (query.sessionId !== undefined) return 'session';
  if (query.user !== undefined) return 'user';
  if (query.event !== undefined && !BULK_EVENT_TYPES.has(query.event)) return 'type';
  if (query.namespace !== undefined) return 'namespace';
  if (query.event !== undefined) return 'type';
  return 'table';
}

const newestFirst = (a: Found, b: Found) => (a.sk < b.sk ? 1 : a.sk > b.sk ? -1 : 0);

/**
 * The audit table. Partitioned by day and shard, sorted by time then uid; indexed by user, by
 * session, by event type and by namespace (see auditTableSchema). A search reads the narrowest
 * index its filters allow, a day at a time newest first, all shards of a day in parallel, and
 * filters the rest in DynamoDB. Pages go on from an opaque cursor (audit-cursor.ts).
 */
export class DynamoAuditLog implements AuditLog {
  private readonly documents: DynamoDBDocumentClient;
  private readonly shardCount: number;
  private readonly retentionDays: number;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly putOnly: boolean;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: Clock,
    options: DynamoAuditLogOptions = {},
  ) {
    this.shardCount = options.shards ?? 4;
    if (!Number.isInteger(this.shardCount) || this.shardCount < 1) throw new Error('shards must be a positive integer');
    this.retentionDays = options.retentionDays ?? 365;
    this.concurrency = options.concurrency ?? 4;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.putOnly = options.putOnly ?? false;
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async emit(event: AuditEvent): Promise<void> {
    await this.putItem(this.item(event));
  }

  async write(events: AuditEvent[]): Promise<void> {
    // DynamoDB refuses a batch that names one key twice; the same (time, uid) is the same event.
    const items = new Map<string, AuditItem>();
    for (const event of events) {
      const item = this.item(event);
      items.set(`${item.pk}\n${item.sk}`, item);
    }
    const all = [...items.values()];
    if (this.putOnly) return this.putEach(all);
    const batches: AuditItem[][] = [];
    for (let i = 0; i < all.length; i += BATCH_ITEMS) batches.push(all.slice(i, i + BATCH_ITEMS));
    let next = 0;
    const worker = async () => {
      while (next < batches.length) await this.writeBatch(batches[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));
  }

  /** As many PutItems in flight as a batch write would send items (concurrency × 25 at most). */
  private async putEach(items: AuditItem[]): Promise<void> {
    await mapBounded(items, this.concurrency * BATCH_ITEMS, (item) => this.putItem(item));
  }

  private async putItem(item: AuditItem): Promise<void> {
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: itemAttributes(item) }));
  }

  private item(event: AuditEvent): AuditItem {
    return auditItem(event, { shardCount: this.shardCount, retentionDays: this.retentionDays, now: this.clock.now() });
  }

  /** Writes one batch, retrying what DynamoDB left unprocessed with exponential backoff and full jitter. */
  private async writeBatch(batch: AuditItem[]): Promise<void> {
    let pending: Record<string, AttributeValue>[] = batch.map(itemAttributes);
    for (let attempt = 1; ; attempt++) {
      const result = await this.client.send(putItemsCommand(this.tableName, pending));
      const unprocessed = result.UnprocessedItems?.[this.tableName] ?? [];
      if (unprocessed.length === 0) return;
      if (attempt >= this.maxAttempts) {
        throw new Error(`${unprocessed.length} audit events were not written after ${attempt} attempts (DynamoDB left them unprocessed)`);
      }
      pending = unprocessed.map((request) => request.PutRequest!.Item!);
      await this.sleep(this.random() * Math.min(5_000, 25 * 2 ** attempt));
    }
  }

  async search(query: AuditQuery): Promise<AuditPage> {
    const after = query.cursor !== undefined ? decodeCursor(query, query.cursor) : undefined;
    const limit = Math.min(MAX_LIMIT, Math.floor(query.limit ?? DEFAULT_LIMIT));
    const now = this.clock.now().getTime();
    // Nothing older than the retention exists, and nothing is written far in the future: clamping
    // keeps a careless range (epoch to year 9999) from turning into millions of day queries.
    const from = new Date(Math.max(query.from.getTime(), now - (this.retentionDays + 1) * DAY_MS));
    const to = new Date(Math.min(query.to.getTime(), now + DAY_MS));
    if (!(limit > 0) || from > to) return { events: [] };

    const lower = from.toISOString();
    const rangeEnd = `${to.toISOString()}$`; // '$' sorts right after '#': every uid at `to` is inside
    // The cursor's own event is inside the bound (BETWEEN is inclusive) and skipped when read.
    const upper = after !== undefined && after < rangeEnd ? after : rangeEnd;
    if (upper < lower) return { events: [] };
    const index = chooseIndex(query);
    const steps = this.steps(query, index, from, new Date(upper.slice(0, 24)));
    const filter = this.filter(query, index);

    // One more than the page holds: whether another page exists, without an empty last page.
    const need = limit + 1;
    const found: Found[] = [];
    // Days are read newest first; when the first days do not fill the page, more days go at once.
    for (let start = 0, width = 1; start < steps.length && found.length < need; start += width, width *= 2) {
      const wanted = need - found.length;
      const group = steps.slice(start, start + width);
      const results = await Promise.all(
        group.map(async (partitions) => {
          const perPartition = await Promise.all(
            partitions.map((partition) => this.readNewestFirst(partition, lower, upper, after, filter, wanted)),
          );
          return perPartition.flat().sort(newestFirst);
        }),
      );
      for (const step of results) {
        for (const item of step) {
          if (found.length >= need) break;
          found.push(item);
        }
      }
    }
    const page = found.slice(0, limit);
    return {
      events: page.map((item) => JSON.parse(item.event) as AuditEvent),
      ...(found.length > limit ? { cursor: encodeCursor(query, page[page.length - 1]!.sk) } : {}),
    };
  }

  /**
   * The partitions to read, grouped newest first: one group per day, or a single group for a
   * session. The index is chooseIndex's.
   */
  private steps(query: AuditQuery, index: ChosenIndex, from: Date, to: Date): Partition[][] {
    if (index === 'session') return [[{ index: AUDIT_SESSION_INDEX, key: 'sid', value: query.sessionId! }]];
    const steps: Partition[][] = [];
    for (let day = Date.parse(dayOf(to)); day >= Date.parse(dayOf(from)); day -= DAY_MS) {
      const dayKey = dayOf(new Date(day));
      steps.push(
        Array.from({ length: this.shardCount }, (_, shard): Partition => {
          if (index === 'user') return { index: AUDIT_USER_INDEX, key: 'user_pk', value: `${query.user}#${dayKey}#${shard}` };
          if (index === 'type') return { index: AUDIT_TYPE_INDEX, key: 'type_pk', value: `${query.event}#${dayKey}#${shard}` };
          if (index === 'namespace') {
            return { index: AUDIT_NAMESPACE_INDEX, key: 'namespace_pk', value: `${query.namespace}#${dayKey}#${shard}` };
          }
          return { key: 'pk', value: `${dayKey}#${shard}` };
        }),
      );
    }
    return steps;
  }

  /** What the chosen index does not narrow down, as a FilterExpression on the top-level attributes. */
  private filter(
    query: AuditQuery,
    index: ChosenIndex,
  ): { expression: string; names: Record<string, string>; values: Record<string, string> } | undefined {
    const conditions: [attribute: string, value: string | undefined][] = [
      ['event_type', index !== 'type' ? query.event : undefined],
      ['user', index === 'session' ? query.user : undefined],
      ['cluster', query.cluster],
      ['namespace', index !== 'namespace' ? query.namespace : undefined],
    ];
    const used = conditions.filter((condition): condition is [string, string] => condition[1] !== undefined);
    if (used.length === 0) return undefined;
    return {
      expression: used.map((_, i) => `#f${i} = :f${i}`).join(' AND '),
      names: Object.fromEntries(used.map(([attribute], i) => [`#f${i}`, attribute])),
      values: Object.fromEntries(used.map(([, value], i) => [`:f${i}`, value])),
    };
  }

  /**
   * Reads one partition newest first until `wanted` matching items are found: no partition can
   * contribute more to the page. DynamoDB's Limit counts items read before the filter, so a
   * filtered read keeps paging until it has found enough or the partition ends.
   */
  private async readNewestFirst(
    partition: Partition,
    lower: string,
    upper: string,
    after: string | undefined,
    filter: ReturnType<DynamoAuditLog['filter']>,
    wanted: number,
  ): Promise<Found[]> {
    const input: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: partition.index,
      KeyConditionExpression: '#part = :part AND #sk BETWEEN :lower AND :upper',
      ProjectionExpression: '#sk, #event',
      ExpressionAttributeNames: { '#part': partition.key, '#sk': 'sk', '#event': 'event', ...filter?.names },
      ExpressionAttributeValues: { ':part': partition.value, ':lower': lower, ':upper': upper, ...filter?.values },
      ...(filter ? { FilterExpression: filter.expression } : {}),
      ScanIndexForward: false,
    };
    // Unfiltered, every item read is a match (plus the cursor's own item, which may come first).
    // Filtered, how many match is unknown: pages start small and grow, so a rare match costs
    // fewer round trips and a common one does not read far more than it needs.
    let pageLimit = filter ? Math.min(MAX_FILTERED_PAGE, Math.max(100, wanted * 2)) : wanted + (after !== undefined ? 1 : 0);
    const matches: Found[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(new QueryCommand({ ...input, Limit: pageLimit, ExclusiveStartKey: startKey }));
      if (filter) pageLimit = Math.min(MAX_FILTERED_PAGE, pageLimit * 2);
      for (const item of (page.Items ?? []) as Found[]) {
        if (item.sk === after) continue;
        matches.push(item);
        if (matches.length >= wanted) return matches;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return matches;
  }
}
