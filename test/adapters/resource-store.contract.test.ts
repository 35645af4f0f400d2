import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConflictError } from '../../lib/core/errors.js';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { startEmbeddedDynamoDb, type EmbeddedStore } from '../../lib/adapters/local/embedded-dynamodb.js';

let dynamo: EmbeddedStore;
let client: DynamoDBClient;
let store: DynamoResourceStore;
let queries = 0;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
  client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'us-east-1' });
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'QueryCommand') queries++;
      return next(args);
    },
    { step: 'initialize' },
  );
  const names = tableNamesWithPrefix('rs-');
  await createTables(client, names);
  store = new DynamoResourceStore(client, names.resources);
});

afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
});

describe('DynamoResourceStore', () => {
  it('round-trips a body and changes the revision on every write', async () => {
    const first = await store.put('role', 'admin', { allow: ['*'], nested: { n: 1.5, s: '' } });
    expect(first).toMatchObject({ kind: 'role', name: 'admin', body: { allow: ['*'], nested: { n: 1.5, s: '' } } });
    expect(await store.get('role', 'admin')).toEqual(first);

    const second = await store.put('role', 'admin', { allow: [] });
    expect(second.revision).not.toBe(first.revision);
    expect((await store.get('role', 'admin'))?.body).toEqual({ allow: [] });
  });

  it('returns undefined for a missing resource', async () => {
    expect(await store.get('role', 'nobody')).toBeUndefined();
  });

  it('creates with expectRevision null once, then refuses with a ConflictError naming kind and name', async () => {
    await store.put('user', 'alice', { n: 1 }, { expectRevision: null });
    const attempt = store.put('user', 'alice', { n: 2 }, { expectRevision: null });
    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    await expect(attempt).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/user.*alice/) });
    expect((await store.get('user', 'alice'))?.body).toEqual({ n: 1 });
  });

  it('lets exactly one of two writers holding the same revision win', async () => {
    const base = await store.put('cluster', 'prod', { v: 0 });
    const results = await Promise.allSettled([
      store.put('cluster', 'prod', { v: 'a' }, { expectRevision: base.revision }),
      store.put('cluster', 'prod', { v: 'b' }, { expectRevision: base.revision }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    const winner = (won[0] as PromiseFulfilledResult<{ revision: string; body: unknown }>).value;
    expect(await store.get('cluster', 'prod')).toMatchObject({ revision: winner.revision, body: winner.body });
  });

  it('refuses a stale revision and a revision for a missing resource', async () => {
    const first = await store.put('ca', 'user', { k: 1 });
    await store.put('ca', 'user', { k: 2 }, { expectRevision: first.revision });
    await expect(store.put('ca', 'user', { k: 3 }, { expectRevision: first.revision })).rejects.toBeInstanceOf(ConflictError);
    await expect(store.put('ca', 'missing', { k: 1 }, { expectRevision: first.revision })).rejects.toBeInstanceOf(ConflictError);
    expect((await store.get('ca', 'user'))?.body).toEqual({ k: 2 });
  });

  it('deletes, reporting whether something was there and honouring expectRevision', async () => {
    expect(await store.delete('token', 'none')).toBe(false);
    const stored = await store.put('token', 't1', { x: 1 });
    await expect(store.delete('token', 't1', { expectRevision: 'stale' })).rejects.toBeInstanceOf(ConflictError);
    expect(await store.get('token', 't1')).toBeDefined();
    expect(await store.delete('token', 't1', { expectRevision: stored.revision })).toBe(true);
    expect(await store.get('token', 't1')).toBeUndefined();
    await store.put('token', 't2', { x: 2 });
    expect(await store.delete('token', 't2')).toBe(true);
  });

  it('lists one kind only, across result pages', async () => {
    // ~40 KB each: 30 of them exceed the 1 MB a single Query page returns.
    const padding = 'x'.repeat(40_000);
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.put('bulk', `item-${String(i).padStart(2, '0')}`, { i, padding })));
    await store.put('bulk-other', 'stray', {});
    const before = queries;
    const listed = await store.list<{ i: number }>('bulk');
    expect(queries - before).toBeGreaterThan(1);
    expect(listed.map((r) => r.body.i)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(listed.every((r) => r.kind === 'bulk')).toBe(true);
    expect(await store.list('never-written')).toEqual([]);
  });
});
