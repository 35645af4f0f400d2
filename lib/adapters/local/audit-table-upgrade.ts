// Local mode keeps its audit table across restarts, and the embedded store cannot add an index to
// a table that exists. A table made before one of today's audit indexes (the search indexes, later
// the namespace index) is rebuilt once: its events are read, the table is made again with today's
// schema, and the events are written back (the same items, keyed by time and uid, now with every
// index's key). On AWS the CDK stack owns the table instead.
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '../aws/dynamo-audit-log.js';
import { auditTableSchema, createTableInput } from '../aws/dynamo-tables.js';
import type { AuditEvent, Clock } from '../../core/ports.js';

const indexKeys = (indexes: { IndexName?: string; KeySchema?: { AttributeName?: string }[] }[] = []) =>
  indexes.map((index) => `${index.IndexName}:${(index.KeySchema ?? []).map((key) => key.AttributeName).join(',')}`).sort();

/** Rebuilds `tableName` when its indexes are not today's; returns how many events were carried over, or undefined when it was current. */
export async function upgradeAuditTable(client: DynamoDBClient, tableName: string, clock: Clock): Promise<number | undefined> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const wanted = indexKeys(createTableInput(tableName, auditTableSchema).GlobalSecondaryIndexes);
  if (JSON.stringify(indexKeys(Table?.GlobalSecondaryIndexes)) === JSON.stringify(wanted)) return undefined;

  const events: AuditEvent[] = [];
  const documents = DynamoDBDocumentClient.from(client);
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) {
      if (typeof item.event === 'string') events.push(JSON.parse(item.event) as AuditEvent);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);

  await client.send(new DeleteTableCommand({ TableName: tableName }));
  await waitUntilTableNotExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
  await client.send(new CreateTableCommand(createTableInput(tableName, auditTableSchema)));
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
  await new DynamoAuditLog(client, tableName, clock).write(events);
  return events.length;
}
