import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { DynamoStateStore } from '../../lib/adapters/aws/dynamo-state-store.js';
import { startEmbeddedDynamoDb, type EmbeddedStore } from '../../lib/adapters/local/embedded-dynamodb.js';

let dynamo: EmbeddedStore;
let client: DynamoDBClient;
let store: DynamoStateStore;
let current: Date;
const clock = { now: () => current };
const later = (seconds: number) => new Date(current.getTime() + seconds * 1000);
const advance = (seconds: number) => {
  current = later(seconds);
};

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
  client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'us-east-1' });
  const names = tableNamesWithPrefix('ss-');
  await createTables(client, names);
  store = new DynamoStateStore(client, names.state, clock);
});

beforeEach(() => {
  current = new Date('2030-01-01T00:00:00.000Z');
});

afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
});

describe('DynamoStateStore', () => {
  it('stores once while the record lives', async () => {
    expect(await store.putIfAbsent('login:1', { nonce: 'a' }, later(60))).toBe(true);
    expect(await store.putIfAbsent('login:1', { nonce: 'b' }, later(60))).toBe(false);
    expect(await store.get('login:1')).toEqual({ nonce: 'a' });
    expect(await store.get('login:missing')).toBeUndefined();
  });

  it('treats an expired record as absent and lets it be stored again', async () => {
    await store.putIfAbsent('invite:1', 'first', later(60));
    advance(59);
    expect(await store.get('invite:1')).toBe('first');
    advance(1); // exactly at expiresAt
    expect(await store.get('invite:1')).toBeUndefined();
    expect(await store.take('invite:1')).toBeUndefined();
    expect(await store.putIfAbsent('invite:1', 'second', later(60))).toBe(true);
    expect(await store.get('invite:1')).toBe('second');
  });

  it('keeps a record until at least the requested moment (sub-second expiry rounds up)', async () => {
    await store.putIfAbsent('jti:1', true, new Date(current.getTime() + 1500));
    current = new Date(current.getTime() + 1499);
    expect(await store.get('jti:1')).toBe(true);
  });

  it('hands a record to exactly one of two concurrent takes', async () => {
    await store.putIfAbsent('code:1', { user: 'alice' }, later(60));
    const results = await Promise.all([store.take('code:1'), store.take('code:1')]);
    expect(results.filter((r) => r !== undefined)).toEqual([{ user: 'alice' }]);
    expect(await store.take('code:1')).toBeUndefined();
    expect(await store.get('code:1')).toBeUndefined();
  });

  it('deletes', async () => {
    await store.putIfAbsent('gone', 1, later(60));
    await store.delete('gone');
    await store.delete('never-there');
    expect(await store.get('gone')).toBeUndefined();
  });

  it('counts within the window the first increment set', async () => {
    expect(await store.increment('fail:alice', later(300))).toBe(1);
    advance(100);
    expect(await store.increment('fail:alice', later(300))).toBe(2);
    const counter = await store.counter('fail:alice');
    expect(counter).toEqual({ count: 2, expiresAt: new Date('2030-01-01T00:05:00.000Z') });
    expect(await store.counter('fail:nobody')).toBeUndefined();
  });

  it('restarts a counter at 1 once it has expired', async () => {
    await store.increment('fail:bob', later(60));
    await store.increment('fail:bob', later(60));
    advance(60);
    expect(await store.counter('fail:bob')).toBeUndefined();
    expect(await store.increment('fail:bob', later(60))).toBe(1);
    expect(await store.counter('fail:bob')).toEqual({ count: 1, expiresAt: later(60) });
    expect(await store.increment('fail:bob', later(600))).toBe(2);
  });

  it('loses no concurrent increments, also when they restart an expired counter', async () => {
    const fresh = await Promise.all(Array.from({ length: 10 }, () => store.increment('fail:carol', later(60))));
    expect([...fresh].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    advance(61);
    const restarted = await Promise.all(Array.from({ length: 5 }, () => store.increment('fail:carol', later(60))));
    expect([...restarted].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    expect((await store.counter('fail:carol'))?.count).toBe(5);
  });
});
