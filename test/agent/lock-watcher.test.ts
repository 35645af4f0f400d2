// The agent's lock view on a real embedded DynamoDB: each poll costs one Query and nothing else,
// a lock is announced once (when it appears or changes, not at every poll), a stored body that is
// not a lock is ignored, not fatal, and staleness is measured on the injected clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type LockEvent, LockWatcher } from '../../agent/locks.js';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { type EmbeddedStore, startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';

const lockBody = (name: string, target: Record<string, string>, message?: string) => ({
  kind: 'lock',
  version: 'v2',
  metadata: { name },
  spec: { target, ...(message ? { message } : {}) },
});
const alice = { username: 'alice', roles: ['access'], traits: {}, accessRequests: [], connector: 'local', issuedAt: '' };

describe('LockWatcher', () => {
  let dynamo: EmbeddedStore;
  let client: DynamoDBClient;
  let store: DynamoResourceStore;
  const commands: string[] = [];

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamoDb();
    client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
    const tables = tableNamesWithPrefix('lw-');
    await createTables(client, tables);
    client.middlewareStack.add(
      (next, context) => (args) => {
        commands.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize' },
    );
    store = new DynamoResourceStore(client, tables.resources);
  });
  afterAll(async () => {
    client?.destroy();
    await dynamo?.close();
  });

  it('reads with one Query per poll, announces each lock once, and ignores a body that is not a lock', async () => {
    let now = new Date('2026-12-02T09:00:00Z');
    const logs: string[] = [];
    const watcher = new LockWatcher({ store, clock: { now: () => now }, log: (m) => logs.push(m), pollMs: 60_000, maxStalenessMs: 10_000 });
    const events: LockEvent[] = [];
    watcher.subscribe((event) => events.push(event));
    await store.put('lock', 'a', lockBody('a', { user: 'alice' }, 'first'));
    await store.put('lock', 'broken', { kind: 'lock', spec: { target: {} } });
    commands.length = 0;
    await watcher.start();
    await watcher.refresh();
    await watcher.refresh();
    expect(commands).toEqual(['QueryCommand', 'QueryCommand', 'QueryCommand']);
    expect(events.map((e) => (e.type === 'locked' ? e.lock.metadata.name : e.type))).toEqual(['a']);
    expect(logs).toEqual([expect.stringMatching(/^agent ignores stored lock "broken": /)]);
    expect(() => watcher.check(alice, [])).toThrow('lock targeting User:"alice" is in force: first');

    // A changed lock is announced again (its message may have changed); a new one too.
    await store.put('lock', 'a', lockBody('a', { user: 'alice' }, 'second'));
    await store.put('lock', 'b', lockBody('b', { role: 'access' }));
    await watcher.refresh();
    expect(events.map((e) => (e.type === 'locked' ? `${e.lock.metadata.name}:${e.lock.spec.message ?? ''}` : e.type))).toEqual([
      'a:first',
      'a:second',
      'b:',
    ]);

    // Fresh within the bound, stale past it, on the injected clock.
    expect(watcher.isStale()).toBe(false);
    now = new Date(now.getTime() + 10_001);
    expect(watcher.isStale()).toBe(true);
    await watcher.refresh();
    expect(watcher.isStale()).toBe(false);
    watcher.close();
  });
});
