import { CreateTableCommand, DescribeTableCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { DynamoAuditLog } from '../../lib/adapters/aws/dynamo-audit-log.js';
import { type AuditItem, auditItem } from '../../lib/adapters/aws/audit-item.js';
import { auditTableSchema, createTableInput, createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { upgradeAuditTable } from '../../lib/adapters/local/audit-table-upgrade.js';
import { type EmbeddedStore, startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';

let dynamo: EmbeddedStore;
let client: DynamoDBClient;
const clock = { now: () => new Date('2030-03-10T12:00:00.000Z') };

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
  client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'us-east-1' });
});
afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
});

describe('upgradeAuditTable', () => {
  it('rebuilds a local audit table made before the search indexes, keeping its events, and then leaves it alone', async () => {
    const table = 'old-audit';
    // The table as the first version of local mode made it: one index by user and day.
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: ['pk', 'sk', 'user_day'].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'by_user',
            KeySchema: [
              { AttributeName: 'user_day', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    const old = { event: 'exec', code: 'T3002I', time: '2030-03-09T10:00:00.000Z', uid: 's-1/exec', user: 'alice', sid: 's-1' };
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: '2030-03-09#1' },
          sk: { S: `${old.time}#${old.uid}` },
          user_day: { S: 'alice#2030-03-09' },
          expiresAt: { N: '1900000000' },
          event: { S: JSON.stringify(old) },
        },
      }),
    );

    expect(await upgradeAuditTable(client, table, clock)).toBe(1);
    const log = new DynamoAuditLog(client, table, clock);
    const month = { from: new Date('2030-03-01T00:00:00Z'), to: clock.now() };
    for (const filter of [{ user: 'alice' }, { sessionId: 's-1' }, { event: 'exec' }]) {
      expect((await log.search({ ...month, ...filter })).events).toEqual([old]);
    }
    expect(await upgradeAuditTable(client, table, clock)).toBeUndefined();
    const fresh = tableNamesWithPrefix('fresh-');
    await createTables(client, fresh);
    expect(await upgradeAuditTable(client, fresh.audit, clock)).toBeUndefined();
  });

  it('gives a table made with the user, session and type indexes the namespace index, keeping its events', async () => {
    const table = 'three-index-audit';
    const threeIndexes = {
      ...auditTableSchema,
      globalSecondaryIndexes: auditTableSchema.globalSecondaryIndexes.filter((index) => index.indexName !== 'by_namespace'),
    };
    await client.send(new CreateTableCommand(createTableInput(table, threeIndexes)));
    const events = [
      { event: 'kube.request', code: 'T3009I', time: '2030-03-09T10:00:00.000Z', uid: 'r-1', user: 'alice', resource_namespace: 'web' },
      { event: 'exec', code: 'T3002I', time: '2030-03-09T11:00:00.000Z', uid: 's-2/exec', sid: 's-2', kubernetes_pod_namespace: 'db' },
      { event: 'user.login', code: 'T1000I', time: '2030-03-09T12:00:00.000Z', uid: 'l-3', user: 'alice', success: true },
    ];
    // Written as the previous version did: every key but the namespace index's.
    for (const event of events) {
      const item: Partial<AuditItem> = auditItem(event, { shardCount: 4, retentionDays: 365, now: clock.now() });
      delete item.namespace_pk;
      await DynamoDBDocumentClient.from(client).send(new PutCommand({ TableName: table, Item: item }));
    }

    expect(await upgradeAuditTable(client, table, clock)).toBe(3);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual([
      'by_namespace',
      'by_session',
      'by_type',
      'by_user',
    ]);
    const log = new DynamoAuditLog(client, table, clock);
    const month = { from: new Date('2030-03-01T00:00:00Z'), to: clock.now() };
    expect((await log.search({ ...month, namespace: 'web' })).events).toEqual([events[0]]);
    expect((await log.search({ ...month, namespace: 'db' })).events).toEqual([events[1]]);
    expect((await log.search(month)).events).toEqual([...events].reverse());
    expect(await upgradeAuditTable(client, table, clock)).toBeUndefined();
  });
});
