// When the agent cannot read the locks, roles decide, as in Teleport: past the staleness bound
// an identity with a `lock: strict` role is refused (its streams end) with a Status naming the
// cause, while best_effort identities go on with the last locks read. The store here is a real
// embedded DynamoDB that the test stops and starts again on the same data.
// Also max_kubernetes_connections: the smallest a user's roles set caps their open streams.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { type EmbeddedStore, startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';
import type { ResourceStore } from '../../lib/core/ports.js';
import { type Role, parseResource } from '../../lib/core/resources.js';
import {
  type AgentHarness,
  type ClientCredentials,
  type OpenConnection,
  rawUpgrade,
  startAgentHarness,
  streamEnded,
} from '../support/agent-harness.js';

const PODS = '/k8s/dev/api/v1/namespaces/default/pods';
const WATCH = `${PODS}?watch=true`;
const FOLLOW = '/k8s/dev/api/v1/namespaces/default/pods/web-0/log?follow=true';
const CAT = '/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=cat&stdin=true&stdout=true';
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
const LONG_STREAMS = { streams: { durationMs: Infinity } };
const STALE_AFTER_MS = 30_000;

function role(name: string, options: Record<string, unknown>): Role {
  const parsed = parseResource({ kind: 'role', version: 'v8', metadata: { name }, spec: { options } }, 'role.yaml');
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.resource as Role;
}

/** An embedded DynamoDB on a data directory, so it can be stopped and started again with its data. */
async function restartableStore(): Promise<{ store: ResourceStore; stop(): Promise<void>; start(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kubeport-locks-'));
  const tables = tableNamesWithPrefix('lm-');
  let dynamo: EmbeddedStore | undefined;
  let current: DynamoResourceStore | undefined;
  const start = async () => {
    dynamo = await startEmbeddedDynamoDb({ dataDir });
    const client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
    await createTables(client, tables);
    current = new DynamoResourceStore(client, tables.resources);
  };
  await start();
  // The agent keeps one store object; a restart gives the database a new socket, so calls go
  // to whichever client reaches it now (and fail while it is stopped).
  const store: ResourceStore = {
    get: (kind, name) => current!.get(kind, name),
    list: (kind) => current!.list(kind),
    put: (kind, name, body, options) => current!.put(kind, name, body, options),
    delete: (kind, name, options) => current!.delete(kind, name, options),
  };
  const stop = async () => {
    const running = dynamo;
    dynamo = undefined;
    await running?.close();
  };
  return { store, start, stop };
}

describe('lock: strict and best_effort while the store cannot be read', () => {
  let db: Awaited<ReturnType<typeof restartableStore>>;
  let h: AgentHarness;
  const open: OpenConnection[] = [];
  beforeAll(async () => {
    db = await restartableStore();
    h = await startAgentHarness({ locks: { store: db.store, pollMs: 200, maxStalenessMs: STALE_AFTER_MS }, kube: LONG_STREAMS });
    h.roles.set('strict-ops', role('strict-ops', { lock: 'strict' }));
  });
  afterAll(async () => {
    for (const connection of open) connection.socket.destroy();
    await h?.close();
    await db?.stop();
  });
  const started = async (bytes: string, who: ClientCredentials, status: RegExp) => {
    const connection = h.open(bytes, who);
    open.push(connection);
    await expect.poll(() => connection.received(), { timeout: 5_000 }).toMatch(status);
    return connection;
  };
  const statusOf = async (who: ClientCredentials) => (await h.request(PODS, { credentials: who })).status;

  it(`refuses strict identities ${STALE_AFTER_MS / 1000} s after the last read and ends their streams; best_effort ones keep the last locks`, async () => {
    const sam = await h.issue({ username: 'sam', roles: ['access', 'strict-ops'] });
    const bea = await h.issue({ username: 'bea' });
    const lola = await h.issue({ username: 'lola' });
    await db.store.put('lock', 'lola-out', {
      kind: 'lock',
      version: 'v2',
      metadata: { name: 'lola-out' },
      spec: { target: { user: 'lola' } },
    });
    await expect.poll(() => statusOf(lola), { timeout: 5_000 }).toBe(403);
    const samsWatch = await started(get(WATCH), sam, /^HTTP\/1\.1 200 /);
    const samsExec = await started(rawUpgrade(CAT), sam, /^HTTP\/1\.1 101 /);
    const beasWatch = await started(get(WATCH), bea, /^HTTP\/1\.1 200 /);

    await db.stop();
    // Reads fail from now on; within the bound everyone goes on as before.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await statusOf(sam)).toBe(200);
    expect(await statusOf(lola)).toBe(403);

    h.clock.advance(STALE_AFTER_MS + 1_000);
    const staleAt = Date.now();
    await Promise.all([streamEnded(samsWatch), streamEnded(samsExec)]);
    console.log(`stale lock view → strict identity's 2 streams ended in ${Date.now() - staleAt} ms`);
    expect(Date.now() - staleAt).toBeLessThan(5_000);
    expect(beasWatch.socket.destroyed).toBe(false);
    expect(beasWatch.received()).not.toContain('"type":"ERROR"');
    expect(samsWatch.received()).toContain('preventive lock-out due to local lock view becoming unreliable');

    const refused = await h.request(PODS, { credentials: sam });
    expect(refused.status).toBe(403);
    const message = JSON.parse(refused.body).message as string;
    expect(message).toMatch(/^preventive lock-out due to local lock view becoming unreliable: /);
    expect(message).toMatch(/has not been able to read locks from its store for 3\d s \(more than 30 s\)/);
    expect(message).toContain('lock: strict');
    expect(await statusOf(bea)).toBe(200);
    // best_effort: the last locks read still hold.
    expect(await statusOf(lola)).toBe(403);

    await db.start();
    await expect.poll(() => statusOf(sam), { timeout: 5_000 }).toBe(200);
    expect(await statusOf(lola)).toBe(403);
  });
});

describe('max_kubernetes_connections', () => {
  let h: AgentHarness;
  const open: OpenConnection[] = [];
  beforeAll(async () => {
    h = await startAgentHarness({ kube: LONG_STREAMS, limits: { maxStreamsPerUser: 4 } });
    h.roles.set('two-streams', role('two-streams', { max_kubernetes_connections: 2 }));
    h.roles.set('wide', role('wide', { max_kubernetes_connections: 50 }));
  });
  afterAll(async () => {
    for (const connection of open) connection.socket.destroy();
    await h?.close();
  });
  const started = async (bytes: string, who: ClientCredentials, status: RegExp) => {
    const connection = h.open(bytes, who);
    open.push(connection);
    await expect.poll(() => connection.received(), { timeout: 5_000 }).toMatch(status);
    return connection;
  };

  it('caps open streams at the smallest limit of the roles with a 429 naming it and the role; plain requests go on', async () => {
    const tina = await h.issue({ username: 'tina', roles: ['access', 'wide', 'two-streams'] });
    await started(get(FOLLOW), tina, /^HTTP\/1\.1 200 /);
    const exec = await started(rawUpgrade(CAT), tina, /^HTTP\/1\.1 101 /);
    const refused = await h.request(WATCH, { credentials: tina });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body)).toMatchObject({ reason: 'TooManyRequests', code: 429 });
    expect(JSON.parse(refused.body).message).toMatch(
      /^user tina already holds 2 open streams .*the most that role "two-streams" allows \(max_kubernetes_connections: 2\); end one/,
    );
    expect(await h.raw(rawUpgrade(CAT), tina)).toMatch(/^HTTP\/1\.1 429 [^]*max_kubernetes_connections: 2/);
    expect((await h.request(PODS, { credentials: tina })).status).toBe(200);
    // A slot comes back when a stream ends.
    exec.socket.destroy();
    await exec.closed;
    await expect
      .poll(async () => (await started(get(WATCH), tina, /^HTTP\/1\.1 \d{3} /)).received(), { timeout: 5_000 })
      .toMatch(/^HTTP\/1\.1 200 /);
  });

  it("keeps the agent's own cap when no role sets a lower one", async () => {
    const uma = await h.issue({ username: 'uma', roles: ['access', 'wide'] });
    for (let i = 0; i < 4; i++) await started(get(FOLLOW), uma, /^HTTP\/1\.1 200 /);
    const refused = await h.request(FOLLOW, { credentials: uma });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).message).toContain('at most 4');
  });
});
