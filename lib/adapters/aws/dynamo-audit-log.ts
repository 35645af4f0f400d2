import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent, AuditLog, AuditPage, AuditQuery, Clock } from '../../core/ports.js';
import { AUDIT_USER_INDEX } from './dynamo-tables.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_LIMIT = 100;

interface AuditItem {
  pk: string;
  sk: string;
  user_day?: string;
  expiresAt: number;
  event: string;
}

const dayOf = (date: Date) => date.toISOString().slice(0, 10);

/**
 * Partitioned by day and a few shards so that a busy day does not pile every write onto one
 * partition; the sort key starts with the ISO time so a day reads back in order.
 */
export class DynamoAuditLog implements AuditLog {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: Clock,
    private readonly shardCount = 4,
    private readonly retentionDays = 365,
  ) {
    if (!Number.isInteger(shardCount) || shardCount < 1) throw new Error('shardCount must be a positive integer');
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async emit(event: AuditEvent): Promise<void> {
    const parsed = new Date(event.time);
    // The index must sort; an unparsable time is indexed at the time we received it.
    const time = Number.isNaN(parsed.getTime()) ? this.clock.now() : parsed;
    const day = dayOf(time);
    const item: AuditItem = {
      pk: `${day}#${this.shardOf(event.uid)}`,
      sk: `${time.toISOString()}#${event.uid}`,
      expiresAt: Math.ceil(this.clock.now().getTime() / 1000) + this.retentionDays * 86_400,
      event: JSON.stringify(event),
    };
    if (event.user !== undefined) item.user_day = `${event.user}#${day}`;
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  // Contract stub: batched writes and paged, filtered search land with issue 8's store work.
  async write(events: AuditEvent[]): Promise<void> {
    for (const event of events) await this.emit(event);
  }

  async search(query: AuditQuery): Promise<AuditPage> {
    return { events: await this.searchEvents(query) };
  }

  private async searchEvents(query: AuditQuery): Promise<AuditEvent[]> {
    const limit = Math.floor(query.limit ?? DEFAULT_LIMIT);
    const now = this.clock.now().getTime();
    // Nothing older than the retention exists, and nothing is written far in the future: clamping
    // keeps a careless range (epoch to year 9999) from turning into millions of day queries.
    const from = new Date(Math.max(query.from.getTime(), now - (this.retentionDays + 1) * DAY_MS));
    const to = new Date(Math.min(query.to.getTime(), now + DAY_MS));
    if (limit <= 0 || from > to) return [];

    const bounds = { ':from': from.toISOString(), ':to': `${to.toISOString()}$` }; // '$' sorts right after '#'
    const found: AuditEvent[] = [];
    for (let day = Date.parse(dayOf(to)); day >= Date.parse(dayOf(from)) && found.length < limit; day -= DAY_MS) {
      const dayKey = dayOf(new Date(day));
      const wanted = limit - found.length;
      const partitions =
        query.user !== undefined
          ? [{ IndexName: AUDIT_USER_INDEX, key: 'user_day', value: `${query.user}#${dayKey}` }]
          : Array.from({ length: this.shardCount }, (_, shard) => ({ IndexName: undefined, key: 'pk', value: `${dayKey}#${shard}` }));
      const perPartition = await Promise.all(
        partitions.map((partition) =>
          this.readNewestFirst(
            {
              TableName: this.tableName,
              IndexName: partition.IndexName,
              KeyConditionExpression: '#part = :part AND sk BETWEEN :from AND :to',
              ExpressionAttributeNames: { '#part': partition.key },
              ExpressionAttributeValues: { ...bounds, ':part': partition.value },
              ScanIndexForward: false,
            },
            query.event,
            wanted,
          ),
        ),
      );
      const merged = perPartition.flat().sort((a, b) => (a.sk < b.sk ? 1 : a.sk > b.sk ? -1 : 0));
      for (const { event } of merged.slice(0, wanted)) found.push(event);
    }
    return found;
  }

  /** Pages through one partition until `wanted` matching events are found: no partition can contribute more. */
  private async readNewestFirst(
    input: QueryCommandInput,
    eventName: string | undefined,
    wanted: number,
  ): Promise<{ sk: string; event: AuditEvent }[]> {
    const matches: { sk: string; event: AuditEvent }[] = [];
    let startKey: Record<string, unknown> | undefined;
    // Without an event filter every item read is a match, so reading more than wanted is waste.
    const pageLimit = eventName === undefined ? wanted : undefined;
    do {
      const page = await this.documents.send(new QueryCommand({ ...input, Limit: pageLimit, ExclusiveStartKey: startKey }));
      for (const item of (page.Items ?? []) as AuditItem[]) {
        const event = JSON.parse(item.event) as AuditEvent;
        if (eventName === undefined || event.event === eventName) matches.push({ sk: item.sk, event });
        if (matches.length >= wanted) return matches;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return matches;
  }

  private shardOf(uid: string): number {
    return createHash('sha256').update(uid).digest().readUInt32BE(0) % this.shardCount;
  }
}
