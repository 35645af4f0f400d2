import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DeleteCommandInput,
  type PutCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors.js';
import type { PutOptions, ResourceStore, StoredResource } from '../../core/ports.js';

interface ResourceItem {
  kind: string;
  name: string;
  revision: string;
  /** JSON text, so bodies keep exactly what JSON can say (no sets, no number precision surprises). */
  body: string;
}

type Condition = Pick<
  PutCommandInput & DeleteCommandInput,
  'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
>;

function revisionCondition(expectRevision: string | null | undefined): Condition {
  if (expectRevision === undefined) return {};
  if (expectRevision === null) {
    return { ConditionExpression: 'attribute_not_exists(#kind)', ExpressionAttributeNames: { '#kind': 'kind' } };
  }
  return {
    ConditionExpression: '#revision = :expected',
    ExpressionAttributeNames: { '#revision': 'revision' },
    ExpressionAttributeValues: { ':expected': expectRevision },
  };
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

function conflict(kind: string, name: string, expectRevision: string | null | undefined): ConflictError {
  const why = expectRevision === null ? 'it already exists' : `it is no longer at revision ${expectRevision}`;
  return new ConflictError(`${kind} "${name}" was changed concurrently: ${why}`);
}

function toResource<T>(item: Record<string, unknown>): StoredResource<T> {
  const stored = item as unknown as ResourceItem;
  return { kind: stored.kind, name: stored.name, revision: stored.revision, body: JSON.parse(stored.body) as T };
}

export class DynamoResourceStore implements ResourceStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async get<T>(kind: string, name: string): Promise<StoredResource<T> | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { kind, name }, ConsistentRead: true }));
    return Item ? toResource<T>(Item) : undefined;
  }

  async list<T>(kind: string): Promise<StoredResource<T>[]> {
    const resources: StoredResource<T>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#kind = :kind',
          ExpressionAttributeNames: { '#kind': 'kind' },
          ExpressionAttributeValues: { ':kind': kind },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) resources.push(toResource<T>(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return resources;
  }

  async put<T>(kind: string, name: string, body: T, options?: PutOptions): Promise<StoredResource<T>> {
    // JSON.stringify(undefined) is undefined, which would leave the item without a body.
    const item: ResourceItem = { kind, name, revision: randomUUID(), body: JSON.stringify(body) ?? 'null' };
    try {
      await this.documents.send(new PutCommand({ TableName: this.tableName, Item: item, ...revisionCondition(options?.expectRevision) }));
    } catch (error) {
      if (isConditionFailure(error)) throw conflict(kind, name, options?.expectRevision);
      throw error;
    }
    // Parsed back so the caller holds what a later get() returns, not its own mutable object.
    return toResource<T>({ ...item });
  }

  async delete(kind: string, name: string, options?: PutOptions): Promise<boolean> {
    try {
      const { Attributes } = await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { kind, name },
          ReturnValues: 'ALL_OLD',
          ...revisionCondition(options?.expectRevision),
        }),
      );
      return Attributes !== undefined;
    } catch (error) {
      if (isConditionFailure(error)) throw conflict(kind, name, options?.expectRevision);
      throw error;
    }
  }
}
