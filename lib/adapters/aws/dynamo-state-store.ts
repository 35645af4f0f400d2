import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock, StateStore } from '../../core/ports.js';

interface StateItem {
  key: string;
  /** JSON text of the stored value; absent on counters. */
  value?: string;
  /** Epoch seconds (the table's TTL attribute). */
  expiresAt: number;
  count?: number;
}

// Rounded up so a record never dies before the moment the caller asked for: a replay cache of
// token ids must outlive the tokens.
const toEpochSeconds = (date: Date) => Math.ceil(date.getTime() / 1000);

const names = { '#key': 'key', '#expiresAt': 'expiresAt' };
const LIVE = '#expiresAt > :now';
const ABSENT_OR_EXPIRED = 'attribute_not_exists(#key) OR #expiresAt <= :now';
const MAX_INCREMENT_ATTEMPTS = 5;

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

/**
 * DynamoDB TTL removes items lazily (often hours late), so every read and condition compares
 * `expiresAt` with the injected clock instead of trusting that expired items are gone.
 */
export class DynamoStateStore implements StateStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  /** Fractional seconds: a record is live strictly before its expiresAt. */
  private nowSeconds(): number {
    return this.clock.now().getTime() / 1000;
  }

  async putIfAbsent(key: string, value: unknown, expiresAt: Date): Promise<boolean> {
    const item: StateItem = { key, value: JSON.stringify(value) ?? 'null', expiresAt: toEpochSeconds(expiresAt) };
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: ABSENT_OR_EXPIRED,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':now': this.nowSeconds() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async get<T>(key: string): Promise<T | undefined> {
    const item = await this.read(key);
    return item ? liveValue<T>(item, this.nowSeconds()) : undefined;
  }

  /** `expiresAt` comes back rounded up to a whole second, as stored. */
  async counter(key: string): Promise<{ count: number; expiresAt: Date } | undefined> {
    const item = await this.read(key);
    if (!item || item.count === undefined || item.expiresAt <= this.nowSeconds()) return undefined;
    return { count: item.count, expiresAt: new Date(item.expiresAt * 1000) };
  }

  async take<T>(key: string): Promise<T | undefined> {
    const now = this.nowSeconds();
    try {
      const { Attributes } = await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { key },
          ConditionExpression: `attribute_exists(#key) AND ${LIVE}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':now': now },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes ? liveValue<T>(Attributes as StateItem, now) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async increment(key: string, expiresAt: Date): Promise<number> {
    const expires = toEpochSeconds(expiresAt);
    for (let attempt = 0; attempt < MAX_INCREMENT_ATTEMPTS; attempt++) {
      const now = this.nowSeconds();
      // Common case: a new or live counter. The expiry is fixed by whoever created the counter.
      try {
        const { Attributes } = await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { key },
            UpdateExpression: 'SET #expiresAt = if_not_exists(#expiresAt, :expires) ADD #count :one',
            ConditionExpression: `attribute_not_exists(#key) OR ${LIVE}`,
            ExpressionAttributeNames: { ...names, '#count': 'count' },
            ExpressionAttributeValues: { ':expires': expires, ':one': 1, ':now': now },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return Number(Attributes?.count);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      // The counter exists but has expired (TTL has not removed it yet): start over at 1, unless
      // a concurrent caller restarted it first, in which case the update above now applies.
      try {
        const item: StateItem = { key, count: 1, expiresAt: expires };
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: '#expiresAt <= :now',
            ExpressionAttributeNames: { '#expiresAt': 'expiresAt' },
            ExpressionAttributeValues: { ':now': now },
          }),
        );
        return 1;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new Error(`counter ${key} kept changing concurrently; gave up after ${MAX_INCREMENT_ATTEMPTS} attempts`);
  }

  async delete(key: string): Promise<void> {
    await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: { key } }));
  }

  private async read(key: string): Promise<StateItem | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { key }, ConsistentRead: true }));
    return Item as StateItem | undefined;
  }
}

/** Counters carry no value, so they read as absent here; counter() reads them. */
function liveValue<T>(item: StateItem, nowSeconds: number): T | undefined {
  if (item.expiresAt <= nowSeconds || item.value === undefined) return undefined;
  return JSON.parse(item.value) as T;
}
