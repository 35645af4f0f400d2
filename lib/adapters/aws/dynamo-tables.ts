import {
  CreateTableCommand,
  DescribeTableCommand,
  waitUntilTableExists,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';

export interface TableNames {
  resources: string;
  state: string;
  audit: string;
}

export function tableNamesWithPrefix(prefix: string): TableNames {
  return { resources: `${prefix}resources`, state: `${prefix}state`, audit: `${prefix}audit` };
}

// Plain data in the shape CDK's TableProps uses (AttributeType.STRING === 'S'), so the CDK stack
// and createTables() below read the same definition.
export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

export interface TableSchema {
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  /** Epoch-seconds attribute that DynamoDB TTL deletes by (lazily, up to days late). */
  timeToLiveAttribute?: string;
  globalSecondaryIndexes?: { indexName: string; partitionKey: KeyAttribute; sortKey?: KeyAttribute }[];
}

export const resourceTableSchema = {
  partitionKey: { name: 'kind', type: 'S' },
  sortKey: { name: 'name', type: 'S' },
} as const satisfies TableSchema;

export const stateTableSchema = {
  partitionKey: { name: 'key', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableSchema;

export const AUDIT_USER_INDEX = 'by_user';
export const AUDIT_SESSION_INDEX = 'by_session';
export const AUDIT_TYPE_INDEX = 'by_type';
export const AUDIT_NAMESPACE_INDEX = 'by_namespace';

// Base table: pk `<day>#<shard>`, sk `<ISO time>#<uid>`. The user, type and namespace indexes keep
// the shard in their partition key (`<user>#<day>#<shard>`, `<event>#<day>#<shard>`,
// `<namespace>#<day>#<shard>`), so one busy bot, the stream of kube.request events or a busy
// namespace spreads over as many partitions as the base table does. Only events about a namespace
// carry its key, so that index holds no logins or cert events. A session is short, so its index
// is keyed by sid alone.
export const auditTableSchema = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    { indexName: AUDIT_USER_INDEX, partitionKey: { name: 'user_pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' } },
    { indexName: AUDIT_SESSION_INDEX, partitionKey: { name: 'sid', type: 'S' }, sortKey: { name: 'sk', type: 'S' } },
    { indexName: AUDIT_TYPE_INDEX, partitionKey: { name: 'type_pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' } },
    { indexName: AUDIT_NAMESPACE_INDEX, partitionKey: { name: 'namespace_pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' } },
  ],
} as const satisfies TableSchema;

function keySchema(partitionKey: KeyAttribute, sortKey?: KeyAttribute): KeySchemaElement[] {
  const keys: KeySchemaElement[] = [{ AttributeName: partitionKey.name, KeyType: 'HASH' }];
  if (sortKey) keys.push({ AttributeName: sortKey.name, KeyType: 'RANGE' });
  return keys;
}

export function createTableInput(tableName: string, schema: TableSchema): CreateTableCommandInput {
  const attributes = new Map<string, AttributeDefinition>();
  const define = (key: KeyAttribute | undefined) => {
    if (key) attributes.set(key.name, { AttributeName: key.name, AttributeType: key.type });
  };
  define(schema.partitionKey);
  define(schema.sortKey);
  for (const index of schema.globalSecondaryIndexes ?? []) {
    define(index.partitionKey);
    define(index.sortKey);
  }
  const indexes = schema.globalSecondaryIndexes?.map((index) => ({
    IndexName: index.indexName,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: { ProjectionType: 'ALL' as const },
  }));
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes.values()],
    KeySchema: keySchema(schema.partitionKey, schema.sortKey),
    ...(indexes?.length ? { GlobalSecondaryIndexes: indexes } : {}),
  };
}

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return false;
    throw error;
  }
}

/**
 * Creates the tables that are missing and waits until all are ACTIVE. For local mode and tests;
 * in AWS the CDK stack owns the tables (and enables TTL, which the embedded store lacks).
 */
export async function createTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  const wanted: [string, TableSchema][] = [
    [names.resources, resourceTableSchema],
    [names.state, stateTableSchema],
    [names.audit, auditTableSchema],
  ];
  await Promise.all(
    wanted.map(async ([tableName, schema]) => {
      if (!(await tableExists(client, tableName))) {
        try {
          await client.send(new CreateTableCommand(createTableInput(tableName, schema)));
        } catch (error) {
          // Another process created it between our check and our create.
          if ((error as { name?: string }).name !== 'ResourceInUseException') throw error;
        }
      }
      await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: tableName });
    }),
  );
}
