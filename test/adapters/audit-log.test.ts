import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AuditEvent } from '../../lib/core/ports.js';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { DynamoAuditLog } from '../../lib/adapters/aws/dynamo-audit-log.js';
import { searchEvents } from '../support/audit-events.js';
import { startEmbeddedDynamoDb, type EmbeddedStore } from '../../lib/adapters/local/embedded-dynamodb.js';

let dynamo: EmbeddedStore;
let client: DynamoDBClient;
const current = new Date('2030-03-10T12:00:00.000Z');
const clock = { now: () => current };

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
  client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'us-east-1' });
});

afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
});

let uidCounter = 0;
function event(time: string, fields: Partial<AuditEvent> = {}): AuditEvent {
  return { event: 'user.login', code: 'T1000I', time, uid: `uid-${++uidCounter}`, success: true, ...fields };
}

/** A fresh table prefix per scenario keeps their events apart. */
async function freshLog(options: { shards?: number; retentionDays?: number } = {}) {
  const tables = tableNamesWithPrefix(`al-${++uidCounter}-`);
  await createTables(client, tables);
  return {
    log: new DynamoAuditLog(client, tables.audit, clock, options.shards, options.retentionDays),
    table: tables.audit,
  };
}

describe('DynamoAuditLog', () => {
  it('returns the events of a day range newest first, bounds included', async () => {
    const { log } = await freshLog();
    const times = [
      '2030-03-07T23:59:59.999Z',
      '2030-03-08T00:00:00.000Z',
      '2030-03-08T10:00:00.000Z',
      '2030-03-09T09:30:00.000Z',
      '2030-03-09T23:59:59.999Z',
      '2030-03-10T00:00:00.000Z',
    ];
    for (const time of times) await log.emit(event(time));

    const found = await searchEvents(log, { from: new Date('2030-03-08T00:00:00.000Z'), to: new Date('2030-03-09T23:59:59.999Z') });
    expect(found.map((e) => e.time)).toEqual([
      '2030-03-09T23:59:59.999Z',
      '2030-03-09T09:30:00.000Z',
      '2030-03-08T10:00:00.000Z',
      '2030-03-08T00:00:00.000Z',
    ]);
    const inside = await searchEvents(log, { from: new Date('2030-03-08T05:00:00Z'), to: new Date('2030-03-09T10:00:00Z') });
    expect(inside.map((e) => e.time)).toEqual(['2030-03-09T09:30:00.000Z', '2030-03-08T10:00:00.000Z']);
    expect(await searchEvents(log, { from: new Date('2030-03-09T00:00:00Z'), to: new Date('2030-03-08T00:00:00Z') })).toEqual([]);
  });

  it('keeps every field of the event', async () => {
    const { log } = await freshLog();
    const emitted = event('2030-03-10T08:00:00.000Z', { user: 'alice', cluster: 'prod', extra: { nested: [1, 'two'] } });
    await log.emit(emitted);
    expect(await searchEvents(log, { from: new Date('2030-03-10T00:00:00Z'), to: current })).toEqual([emitted]);
  });

  it('merges all shards in time order and applies the limit', async () => {
    const { log } = await freshLog({ shards: 4 });
    const emitted: AuditEvent[] = [];
    for (let minute = 0; minute < 40; minute++) {
      const e = event(new Date(Date.UTC(2030, 2, 9, 10, minute)).toISOString());
      emitted.push(e);
      await log.emit(e);
    }
    const newestFirst = [...emitted].reverse();
    const range = { from: new Date('2030-03-01T00:00:00Z'), to: current };
    expect(await searchEvents(log, range)).toEqual(newestFirst);
    expect(await searchEvents(log, { ...range, limit: 7 })).toEqual(newestFirst.slice(0, 7));
    expect(await searchEvents(log, { ...range, limit: 0 })).toEqual([]);
  });

  it('defaults the limit to 100', async () => {
    const { log } = await freshLog({ shards: 2 });
    await Promise.all(Array.from({ length: 105 }, (_, i) => log.emit(event(new Date(Date.UTC(2030, 2, 10, 1, 0, i)).toISOString()))));
    const found = await searchEvents(log, { from: new Date('2030-03-10T00:00:00Z'), to: current });
    expect(found).toHaveLength(100);
    expect(found[0]?.time).toBe('2030-03-10T01:01:44.000Z');
  });

  it('filters by user through the index and by event name, across days', async () => {
    const { log } = await freshLog();
    await log.emit(event('2030-03-08T10:00:00.000Z', { user: 'alice' }));
    await log.emit(event('2030-03-08T11:00:00.000Z', { user: 'bob' }));
    await log.emit(event('2030-03-09T10:00:00.000Z', { user: 'alice', event: 'session.start' }));
    await log.emit(event('2030-03-10T10:00:00.000Z', { user: 'alice' }));
    await log.emit(event('2030-03-10T10:30:00.000Z'));
    const range = { from: new Date('2030-03-08T00:00:00Z'), to: current };

    const alice = await searchEvents(log, { ...range, user: 'alice' });
    expect(alice.map((e) => e.time)).toEqual(['2030-03-10T10:00:00.000Z', '2030-03-09T10:00:00.000Z', '2030-03-08T10:00:00.000Z']);
    const logins = await searchEvents(log, { ...range, event: 'user.login' });
    expect(logins.map((e) => e.time)).toEqual([
      '2030-03-10T10:30:00.000Z',
      '2030-03-10T10:00:00.000Z',
      '2030-03-08T11:00:00.000Z',
      '2030-03-08T10:00:00.000Z',
    ]);
    const aliceLogins = await searchEvents(log, { ...range, user: 'alice', event: 'user.login', limit: 1 });
    expect(aliceLogins.map((e) => e.time)).toEqual(['2030-03-10T10:00:00.000Z']);
    expect(await searchEvents(log, { ...range, user: 'nobody' })).toEqual([]);
  });

  it('stamps each item with a retention expiry and a day/shard partition key', async () => {
    const { log, table } = await freshLog({ shards: 3, retentionDays: 30 });
    await log.emit(event('2030-03-10T09:00:00.000Z', { uid: 'fixed-uid', user: 'alice' }));
    const pks = ['0', '1', '2'].map((shard) => `2030-03-10#${shard}`);
    const items = (
      await Promise.all(
        pks.map((pk) =>
          client.send(
            new QueryCommand({
              TableName: table,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': { S: pk } },
            }),
          ),
        ),
      )
    ).flatMap((page) => page.Items ?? []);
    expect(items).toHaveLength(1);
    expect(items[0]?.sk?.S).toBe('2030-03-10T09:00:00.000Z#fixed-uid');
    expect(items[0]?.user_day?.S).toBe('alice#2030-03-10');
    expect(Number(items[0]?.expiresAt?.N)).toBe(current.getTime() / 1000 + 30 * 86_400);
  });

  it('clamps open-ended ranges to the retention window instead of querying every day since 1970', async () => {
    const { log } = await freshLog({ retentionDays: 10 });
    await log.emit(event('2030-03-09T10:00:00.000Z'));
    const found = await searchEvents(log, { from: new Date(0), to: new Date('9999-12-31T00:00:00Z') });
    expect(found.map((e) => e.time)).toEqual(['2030-03-09T10:00:00.000Z']);
  });
});
