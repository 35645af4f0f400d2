import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AuditEvent, AuditQuery } from '../../lib/core/ports.js';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { DynamoAuditLog, type DynamoAuditLogOptions } from '../../lib/adapters/aws/dynamo-audit-log.js';
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
async function freshLog(options: DynamoAuditLogOptions = {}, through: DynamoDBClient = client) {
  const tables = tableNamesWithPrefix(`al-${++uidCounter}-`);
  await createTables(client, tables);
  return { log: new DynamoAuditLog(through, tables.audit, clock, options), table: tables.audit };
}

async function storedItems(table: string) {
  return (await client.send(new ScanCommand({ TableName: table }))).Items ?? [];
}

/** Every page of a search, following the cursor, and the page sizes. */
async function allPages(log: DynamoAuditLog, query: AuditQuery) {
  const events: AuditEvent[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await log.search({ ...query, ...(cursor !== undefined ? { cursor } : {}) });
    events.push(...page.events);
    sizes.push(page.events.length);
    cursor = page.cursor;
  } while (cursor !== undefined && sizes.length < 1000);
  return { events, sizes };
}

/** A client of the same store that notes which index each Query reads. */
function observedClient() {
  const indexes: (string | undefined)[] = [];
  const observed = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'us-east-1' });
  observed.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'QueryCommand') indexes.push((args.input as { IndexName?: string }).IndexName);
      return next(args);
    },
    { step: 'initialize' },
  );
  return { observed, indexes };
}

const month = { from: new Date('2030-02-08T00:00:00Z'), to: current };

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
    await log.write(times.map((time) => event(time)));

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
    const emitted = Array.from({ length: 40 }, (_, minute) => event(new Date(Date.UTC(2030, 2, 9, 10, minute)).toISOString()));
    await log.write(emitted);
    const newestFirst = [...emitted].reverse();
    const range = { from: new Date('2030-03-01T00:00:00Z'), to: current };
    expect(await searchEvents(log, range)).toEqual(newestFirst);
    expect(await searchEvents(log, { ...range, limit: 7 })).toEqual(newestFirst.slice(0, 7));
    expect(await log.search({ ...range, limit: 0 })).toEqual({ events: [] });
  });

  it('putOnly writes every event with PutItem and never sends BatchWriteItem (the agent may not delete events)', async () => {
    const commands: string[] = [];
    const observed = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'us-east-1' });
    observed.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(context.commandName ?? '');
        // What IAM would answer the agent's task role, which is granted PutItem only.
        if (context.commandName !== 'PutItemCommand') throw new Error(`AccessDenied: ${context.commandName} is not granted`);
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      const { log, table } = await freshLog({ putOnly: true, concurrency: 2 }, observed);
      const emitted = Array.from({ length: 60 }, (_, i) => event(new Date(Date.UTC(2030, 2, 10, 2, 0, i)).toISOString()));
      await log.write([...emitted, emitted[0]!]);
      expect(await storedItems(table)).toHaveLength(60);
      expect(new Set(commands)).toEqual(new Set(['PutItemCommand']));
      expect(commands).toHaveLength(60);
    } finally {
      observed.destroy();
    }
  });

  it('defaults the limit to 100 and caps it at 1000', async () => {
    const { log } = await freshLog({ shards: 2 });
    await log.write(Array.from({ length: 1005 }, (_, i) => event(new Date(Date.UTC(2030, 2, 10, 1, 0, 0, i * 10)).toISOString())));
    const range = { from: new Date('2030-03-10T00:00:00Z'), to: current };
    const found = await searchEvents(log, range);
    expect(found).toHaveLength(100);
    expect(found[0]?.time).toBe('2030-03-10T01:00:10.040Z');
    const capped = await log.search({ ...range, limit: 5000 });
    expect(capped.events).toHaveLength(1000);
    expect(capped.cursor).toBeDefined();
  });

  it('pages with the cursor through every event exactly once, across days and shards, with and without filters', async () => {
    const { log } = await freshLog({ shards: 3 });
    const users = ['alice', 'bob', 'carol'];
    const emitted = Array.from({ length: 150 }, (_, i) =>
      event(new Date(Date.UTC(2030, 2, 5, 0, 0, 0) + i * 47 * 60_000).toISOString(), {
        user: users[i % 3],
        event: i % 4 === 0 ? 'exec' : 'kube.request',
        kubernetes_cluster: i % 5 === 0 ? 'prod' : 'staging',
      }),
    );
    // Two events in the same millisecond: the uid orders them, and neither is skipped at a page edge.
    emitted.push(event(emitted[70]!.time, { user: 'alice', event: 'exec', kubernetes_cluster: 'prod' }));
    await log.write(emitted);
    const newestFirst = [...emitted].sort((a, b) => (a.time === b.time ? (a.uid < b.uid ? 1 : -1) : a.time < b.time ? 1 : -1));

    for (const [filter, keep] of [
      [{}, () => true],
      [{ user: 'alice' }, (e: AuditEvent) => e.user === 'alice'],
      [{ event: 'exec' }, (e: AuditEvent) => e.event === 'exec'],
      [{ cluster: 'prod' }, (e: AuditEvent) => e.kubernetes_cluster === 'prod'],
      [
        { user: 'bob', event: 'kube.request', cluster: 'staging' },
        (e: AuditEvent) => e.user === 'bob' && e.event === 'kube.request' && e.kubernetes_cluster === 'staging',
      ],
    ] as const) {
      for (const limit of [4, 50]) {
        const { events, sizes } = await allPages(log, { ...month, ...filter, limit });
        const expected = newestFirst.filter(keep);
        expect(events.map((e) => e.uid)).toEqual(expected.map((e) => e.uid));
        // Every page but the last is full, and the last is never empty.
        expect(sizes.slice(0, -1).every((size) => size === limit)).toBe(true);
        expect(sizes.at(-1)).toBeGreaterThan(0);
      }
    }
  });

  it('finds events by session, user, type, cluster and namespace, reading the narrowest index', async () => {
    const { observed, indexes } = observedClient();
    const { log } = await freshLog({ shards: 2 }, observed);
    const day = (hour: number) => `2030-03-0${hour < 24 ? 8 : 9}T${String(hour % 24).padStart(2, '0')}:00:00.000Z`;
    const start = event(day(1), {
      event: 'session.start',
      user: 'alice',
      sid: 's-1',
      kubernetes_cluster: 'prod',
      kubernetes_pod_namespace: 'web',
    });
    const exec = event(day(2), { event: 'exec', user: 'alice', sid: 's-1', kubernetes_cluster: 'prod', kubernetes_pod_namespace: 'web' });
    const request = event(day(3), { event: 'kube.request', user: 'alice', kubernetes_cluster: 'prod', resource_namespace: 'web' });
    const other = event(day(4), { event: 'kube.request', user: 'bob', kubernetes_cluster: 'prod', resource_namespace: 'db' });
    const staging = event(day(26), {
      event: 'exec',
      user: 'bob',
      sid: 's-2',
      kubernetes_cluster: 'staging',
      kubernetes_pod_namespace: 'web',
    });
    const login = event(day(27), { user: 'bob' });
    await log.write([start, exec, request, other, staging, login]);
    const uids = async (query: Partial<AuditQuery>) => {
      indexes.length = 0;
      return (await searchEvents(log, { ...month, ...query })).map((e) => e.uid);
    };

    expect(await uids({ sessionId: 's-1' })).toEqual([exec.uid, start.uid]);
    expect(new Set(indexes)).toEqual(new Set(['by_session']));
    expect(await uids({ sessionId: 's-1', event: 'exec', user: 'alice', cluster: 'prod', namespace: 'web' })).toEqual([exec.uid]);
    expect(new Set(indexes)).toEqual(new Set(['by_session']));
    expect(await uids({ sessionId: 's-1', user: 'bob' })).toEqual([]);

    expect(await uids({ user: 'alice' })).toEqual([request.uid, exec.uid, start.uid]);
    expect(new Set(indexes)).toEqual(new Set(['by_user']));
    expect(await uids({ user: 'bob', event: 'exec' })).toEqual([staging.uid]);
    expect(new Set(indexes)).toEqual(new Set(['by_user']));

    expect(await uids({ event: 'exec' })).toEqual([staging.uid, exec.uid]);
    expect(new Set(indexes)).toEqual(new Set(['by_type']));
    expect(await uids({ event: 'kube.request' })).toEqual([other.uid, request.uid]);
    expect(new Set(indexes)).toEqual(new Set(['by_type']));
    // A rare type is narrower than a namespace; kube.request, most of the stream, is not.
    expect(await uids({ event: 'exec', namespace: 'web' })).toEqual([staging.uid, exec.uid]);
    expect(new Set(indexes)).toEqual(new Set(['by_type']));
    expect(await uids({ event: 'kube.request', namespace: 'db' })).toEqual([other.uid]);
    expect(new Set(indexes)).toEqual(new Set(['by_namespace']));

    expect(await uids({ cluster: 'prod' })).toEqual([other.uid, request.uid, exec.uid, start.uid]);
    expect(new Set(indexes)).toEqual(new Set([undefined]));
    // The pod's namespace counts for session events, the resource's for requests.
    expect(await uids({ namespace: 'web' })).toEqual([staging.uid, request.uid, exec.uid, start.uid]);
    expect(new Set(indexes)).toEqual(new Set(['by_namespace']));
    expect(await uids({ cluster: 'staging', namespace: 'web' })).toEqual([staging.uid]);
    expect(new Set(indexes)).toEqual(new Set(['by_namespace']));
    expect(await uids({ cluster: 'nowhere' })).toEqual([]);
    expect(await uids({ namespace: 'nowhere' })).toEqual([]);
    observed.destroy();
  });

  it('serves a namespace from its own index, with or without cluster and type, paging across days and shards', async () => {
    const { observed, indexes } = observedClient();
    const { log } = await freshLog({ shards: 3 }, observed);
    const namespaces = ['web', 'db', 'payments'];
    const emitted = Array.from({ length: 180 }, (_, i) => {
      const namespace = namespaces[i % 3]!;
      const time = new Date(Date.UTC(2030, 2, 6, 0, 0, 0) + i * 31 * 60_000).toISOString();
      const where = { kubernetes_cluster: i % 5 === 0 ? 'prod' : 'staging', user: i % 2 === 0 ? 'alice' : 'bob' };
      // Every seventh event is a session's exec (the pod's namespace), every eleventh a login (none).
      if (i % 11 === 0) return event(time, { user: where.user });
      if (i % 7 === 0) return event(time, { ...where, event: 'exec', sid: `s-${i}`, kubernetes_pod_namespace: namespace });
      return event(time, { ...where, event: 'kube.request', resource_namespace: namespace });
    });
    await log.write(emitted);
    const newestFirst = [...emitted].reverse();
    const inNamespace = (e: AuditEvent, namespace: string) => (e.resource_namespace ?? e.kubernetes_pod_namespace) === namespace;

    for (const [filter, keep, index] of [
      [{ namespace: 'web' }, (e: AuditEvent) => inNamespace(e, 'web'), 'by_namespace'],
      [{ namespace: 'db', cluster: 'prod' }, (e: AuditEvent) => inNamespace(e, 'db') && e.kubernetes_cluster === 'prod', 'by_namespace'],
      [
        { namespace: 'payments', cluster: 'staging', event: 'kube.request' },
        (e: AuditEvent) => inNamespace(e, 'payments') && e.kubernetes_cluster === 'staging' && e.event === 'kube.request',
        'by_namespace',
      ],
      [{ namespace: 'web', event: 'exec' }, (e: AuditEvent) => inNamespace(e, 'web') && e.event === 'exec', 'by_type'],
      [{ namespace: 'web', user: 'alice' }, (e: AuditEvent) => inNamespace(e, 'web') && e.user === 'alice', 'by_user'],
      [{ namespace: 'nowhere' }, () => false, 'by_namespace'],
    ] as const) {
      const expected = newestFirst.filter(keep);
      for (const limit of [4, 25]) {
        indexes.length = 0;
        const { events, sizes } = await allPages(log, { ...month, ...filter, limit });
        expect(events.map((e) => e.uid)).toEqual(expected.map((e) => e.uid));
        expect(new Set(indexes)).toEqual(new Set([index]));
        if (expected.length === 0) continue;
        expect(sizes.slice(0, -1).every((size) => size === limit)).toBe(true);
        expect(sizes.at(-1)).toBeGreaterThan(0);
      }
    }
    // The events span four days, so the paging above crossed days as well as shards.
    expect(new Set(emitted.map((e) => e.time.slice(0, 10))).size).toBe(4);
    observed.destroy();
  });

  it('keeps paging a day whose reads are mostly filtered out', async () => {
    const { log } = await freshLog({ shards: 1 });
    const noise = Array.from({ length: 900 }, (_, i) =>
      event(new Date(Date.UTC(2030, 2, 9, 12, 0, i)).toISOString(), { kubernetes_cluster: 'staging' }),
    );
    const wanted = [
      event('2030-03-09T11:00:00.000Z', { kubernetes_cluster: 'prod' }),
      event('2030-03-09T10:00:00.000Z', { kubernetes_cluster: 'prod' }),
    ];
    await log.write([...noise, ...wanted]);
    expect((await searchEvents(log, { ...month, cluster: 'prod', limit: 5 })).map((e) => e.uid)).toEqual(wanted.map((e) => e.uid));
  });

  it('stores an event written twice, or twice in one batch, once', async () => {
    const { log, table } = await freshLog({ shards: 2 });
    const batch = Array.from({ length: 60 }, (_, i) => event(new Date(Date.UTC(2030, 2, 9, 8, i)).toISOString()));
    await log.write([...batch, ...batch.slice(0, 30)]);
    await log.write(batch);
    await log.emit(batch[5]!);
    expect(await storedItems(table)).toHaveLength(60);
    expect((await searchEvents(log, { ...month, limit: 1000 })).map((e) => e.uid)).toEqual([...batch].reverse().map((e) => e.uid));
  });

  it('retries what DynamoDB leaves unprocessed, backing off exponentially with jitter', async () => {
    // The store answers as a throttled table does: part of each first try comes back unprocessed.
    const throttled = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'us-east-1' });
    let tries = 0;
    throttled.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { RequestItems?: Record<string, { PutRequest: unknown }[]> };
        if (!input.RequestItems) return next(args);
        const [table, requests] = Object.entries(input.RequestItems)[0]!;
        if (++tries % 3 === 0 || requests.length < 2) return next(args);
        const kept = requests.slice(0, Math.ceil(requests.length / 2));
        const result = await next({ ...args, input: { ...input, RequestItems: { [table]: kept } } });
        const output = result.output as { UnprocessedItems?: Record<string, unknown[]> };
        output.UnprocessedItems = { [table]: requests.slice(kept.length) };
        return result;
      },
      { step: 'initialize' },
    );
    const sleeps: number[] = [];
    const { log, table } = await freshLog(
      { shards: 2, concurrency: 1, sleep: async (ms) => void sleeps.push(ms), random: () => 1 },
      throttled,
    );
    const batch = Array.from({ length: 25 }, (_, i) => event(new Date(Date.UTC(2030, 2, 9, 9, i)).toISOString()));
    await log.write(batch);
    expect(await storedItems(table)).toHaveLength(25);
    expect(sleeps.length).toBeGreaterThan(1);
    expect(sleeps).toEqual(sleeps.map((_, i) => 25 * 2 ** (i + 1)));

    const { log: impatient } = await freshLog({ maxAttempts: 1, sleep: async () => undefined }, throttled);
    tries = 0;
    await expect(impatient.write(batch)).rejects.toThrow(/not written after 1 attempts/);
    throttled.destroy();
  });

  it('refuses a malformed or forged cursor, or one from another search, and a cursor never widens the search', async () => {
    const { log } = await freshLog({ shards: 2 });
    await log.write([
      event('2030-03-09T08:00:00.000Z', { user: 'alice' }),
      event('2030-03-09T09:00:00.000Z', { user: 'alice' }),
      event('2030-03-09T10:00:00.000Z', { user: 'bob' }),
      event('2030-03-10T10:00:00.000Z', { user: 'alice' }),
    ]);
    const query = { from: new Date('2030-03-09T00:00:00Z'), to: new Date('2030-03-09T23:00:00Z'), user: 'alice', limit: 1 };
    const first = await log.search(query);
    expect(first.cursor).toBeDefined();
    const forge = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');
    const { f } = JSON.parse(Buffer.from(first.cursor!, 'base64url').toString()) as { f: string };

    for (const [cursor, why] of [
      ['', /not a cursor/],
      ['not a cursor!', /not a cursor/],
      ['x'.repeat(5000), /not a cursor/],
      [forge([1, 2]), /not a cursor/],
      [forge({ v: 2, sk: '2030-03-09T09:00:00.000Z#u', f }), /not a cursor/],
      [forge({ v: 1, sk: '2030-03-09T09:00:00.000Z#u', f, extra: 1 }), /not a cursor/],
      [forge({ v: 1, sk: 'zzz', f }), /does not point at an event/],
      [forge({ v: 1, sk: '2030-02-30T09:00:00.000Z#u', f }), /does not point at an event/],
      // Past the end of the range: it would read events the query excludes.
      [forge({ v: 1, sk: '2030-03-10T23:00:00.000Z#u', f }), /outside the time range/],
      [forge({ v: 1, sk: '2030-03-09T09:00:00.000Z#u', f: 'AAAAAAAAAAAAAAAA' }), /other filters/],
    ] as const) {
      const refusal = await log.search({ ...query, cursor }).catch((error: Error & { code?: string }) => error);
      expect(refusal).toMatchObject({ code: 'bad_request', message: expect.stringMatching(why) });
    }
    // Bob's search refuses Alice's cursor, rather than going on with other filters.
    await expect(log.search({ ...query, user: 'bob', cursor: first.cursor! })).rejects.toThrow(/other filters/);
    // A well-formed forged position is still bounded by the query's range and filters.
    const forged = await log.search({ ...query, limit: 10, cursor: forge({ v: 1, sk: '2030-03-09T22:00:00.000Z#zz', f }) });
    expect(forged.events.map((e) => [e.user, e.time])).toEqual([
      ['alice', '2030-03-09T09:00:00.000Z'],
      ['alice', '2030-03-09T08:00:00.000Z'],
    ]);
  });

  it('writes in a batch the very item a single put writes, whatever characters the event holds', async () => {
    const odd = event('2030-03-10T08:30:00.000Z', {
      user: 'ali"ce\\',
      kubernetes_cluster: 'prod\n',
      resource_namespace: 'wéb',
      command: ['sh', '-c', 'echo "\u0000\u001f\t" \\ \u2028 😀 \ud800 </script>'],
      extra: { nested: [1, 'two', null, true] },
    });
    const batched = await freshLog();
    const single = await freshLog();
    await batched.log.write([odd]);
    await single.log.emit(odd);
    expect(await storedItems(batched.table)).toEqual(await storedItems(single.table));
    expect(await searchEvents(batched.log, { ...month, user: odd.user as string })).toEqual([odd]);
  });

  it('stamps each item with its keys, the filter attributes and an expiry counted from the event', async () => {
    const { log, table } = await freshLog({ shards: 3, retentionDays: 30 });
    await log.emit(
      event('2030-03-10T09:00:00.000Z', {
        uid: 'fixed-uid',
        user: 'alice',
        event: 'exec',
        sid: 'sess-1',
        kubernetes_cluster: 'prod',
        kubernetes_pod_namespace: 'web',
      }),
    );
    const pks = ['0', '1', '2'].map((shard) => `2030-03-10#${shard}`);
    const items = (
      await Promise.all(
        pks.map((pk) =>
          client.send(
            new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } } }),
          ),
        ),
      )
    ).flatMap((page) => page.Items ?? []);
    expect(items).toHaveLength(1);
    const item = items[0]!;
    const shard = item.pk!.S!.split('#')[1];
    expect(item.sk?.S).toBe('2030-03-10T09:00:00.000Z#fixed-uid');
    expect(item.user_pk?.S).toBe(`alice#2030-03-10#${shard}`);
    expect(item.type_pk?.S).toBe(`exec#2030-03-10#${shard}`);
    expect(item.namespace_pk?.S).toBe(`web#2030-03-10#${shard}`);
    expect(item.sid?.S).toBe('sess-1');
    expect([item.event_type?.S, item.cluster?.S, item.namespace?.S]).toEqual(['exec', 'prod', 'web']);
    expect(Number(item.expiresAt?.N)).toBe(Date.parse('2030-03-10T09:00:00.000Z') / 1000 + 30 * 86_400);
  });

  it('shrinks an event over the item size limit instead of failing its batch', async () => {
    const { log } = await freshLog();
    const traits = { groups: Array.from({ length: 30_000 }, (_, i) => `group-${i}`) };
    const huge = event('2030-03-09T10:00:00.000Z', {
      user: 'alice',
      user_traits: traits,
      command: ['sh', '-c', 'x'.repeat(500_000)],
      verb: 'POST',
    });
    const small = event('2030-03-09T10:00:01.000Z', { user: 'alice' });
    await log.write([huge, small]);
    const [newer, shrunk] = await searchEvents(log, { ...month, user: 'alice' });
    expect(newer).toEqual(small);
    expect(shrunk).toMatchObject({ uid: huge.uid, user: 'alice', event: 'user.login', verb: 'POST', truncated: true });
    expect(shrunk?.truncated_fields).toEqual(['user_traits', 'command']);
    expect(shrunk).not.toHaveProperty('user_traits');
  });

  it('clamps open-ended ranges to the retention window instead of querying every day since 1970', async () => {
    const { log } = await freshLog({ retentionDays: 10 });
    await log.emit(event('2030-03-09T10:00:00.000Z'));
    const found = await searchEvents(log, { from: new Date(0), to: new Date('9999-12-31T00:00:00Z') });
    expect(found.map((e) => e.time)).toEqual(['2030-03-09T10:00:00.000Z']);
  });
});
