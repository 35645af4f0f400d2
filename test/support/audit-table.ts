// Reads an audit table whole, as tests check that every event is stored exactly once.
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AuditEvent } from '../../lib/core/ports.js';

/** Every stored event (a full scan: tests only). */
export async function scanAuditEvents(client: DynamoDBClient, table: string): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) events.push(JSON.parse(item.event!.S!) as AuditEvent);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return events;
}

/** How many times each uid is stored. */
export function countByUid(events: AuditEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.uid, (counts.get(event.uid) ?? 0) + 1);
  return counts;
}
