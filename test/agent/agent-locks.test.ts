// Locks reach every agent through the store: a lock created with the admin API refuses the
// identity's new requests with the lock's message and ends its open streams (exec over
// WebSocket, watch, followed logs) on two agents sharing the store within 5 s; removing it
// gives access back. Expired locks do nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../lib/client/api-client.js';
import type { AuditEvent } from '../../lib/core/ports.js';
import {
  type AgentHarness,
  type ClientCredentials,
  type OpenConnection,
  rawUpgrade,
  startAgentHarness,
  streamEnded,
} from '../support/agent-harness.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';
import { searchEvents } from '../support/audit-events.js';

const CAT = '/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=cat&stdin=true&stdout=true';
const WATCH = '/k8s/dev/api/v1/namespaces/default/pods?watch=true';
const FOLLOW = '/k8s/dev/api/v1/namespaces/default/pods/web-0/log?follow=true';
const PODS = '/k8s/dev/api/v1/namespaces/default/pods';
// Watches and followed logs that last until the client (or the agent) ends them, as a real cluster's.
const LONG_STREAMS = { streams: { durationMs: Infinity } };
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;

describe('locks through the store, two agents', () => {
  let api: ApiHarness;
  let admin: ClientCredentials;
  let client: ApiClient;
  let one: AgentHarness;
  let two: AgentHarness;
  const open: OpenConnection[] = [];

  beforeAll(async () => {
    api = await startApiHarness();
    admin = await api.identity({ username: 'kubeport-admin', roles: ['editor'] });
    client = new ApiClient(api.proxy, 'kubeport:kubeport-test', api.clock);
    // Both agents read the admin API's store, each on its own; nothing passes between them in memory.
    [one, two] = await Promise.all([
      startAgentHarness({ locks: { store: api.deps.resources }, kube: LONG_STREAMS }),
      startAgentHarness({ locks: { store: api.deps.resources }, kube: LONG_STREAMS }),
    ]);
  });
  afterAll(async () => {
    for (const connection of open) connection.socket.destroy();
    await Promise.all([one?.close(), two?.close()]);
    await api?.close();
  });

  const lock = async (name: string, spec: Record<string, unknown>) =>
    client.call('POST', '/webapi/admin/resources', { documents: [{ kind: 'lock', metadata: { name }, spec }], source: 'test' }, admin);
  const unlock = (name: string) => client.call('DELETE', `/webapi/admin/resources/lock/${name}`, undefined, admin);
  const started = async (h: AgentHarness, bytes: string, who: ClientCredentials, status: RegExp) => {
    const connection = h.open(bytes, who);
    open.push(connection);
    await expect.poll(() => connection.received(), { timeout: 5_000 }).toMatch(status);
    return connection;
  };

  it('ends exec (WebSocket), watch and followed logs of the locked user on both agents within 5 s; others go on', async () => {
    const alice = await one.issue({ username: 'alice' });
    const bob = await one.issue({ username: 'bob' });
    // Certificates of one CA per agent harness: alice needs one for the second agent too.
    const aliceTwo = await two.issue({ username: 'alice' });
    const streams = [
      await started(one, rawUpgrade(CAT), alice, /^HTTP\/1\.1 101 /),
      await started(one, get(WATCH), alice, /^HTTP\/1\.1 200 /),
      await started(one, get(FOLLOW), alice, /^HTTP\/1\.1 200 /),
      await started(two, rawUpgrade(CAT), aliceTwo, /^HTTP\/1\.1 101 /),
      await started(two, get(WATCH), aliceTwo, /^HTTP\/1\.1 200 /),
    ];
    const bobsExec = await started(one, rawUpgrade(CAT), bob, /^HTTP\/1\.1 101 /);

    const created = Date.now();
    await lock('alice-out', { target: { user: 'alice' }, message: 'Suspicious activity.' });
    await Promise.all(streams.map((s) => streamEnded(s)));
    const tookMs = Date.now() - created;
    console.log(`lock → 5 streams of alice ended on 2 agents in ${tookMs} ms`);
    expect(tookMs).toBeLessThan(5_000);
    // What each client saw last: the lock's message where the protocol has room for it.
    const said = 'lock targeting User:\\"alice\\" is in force: Suspicious activity.';
    for (const exec of [streams[0]!, streams[3]!]) expect(exec.received()).toContain(said);
    for (const watch of [streams[1]!, streams[4]!])
      expect(watch.received()).toMatch(/\{"type":"ERROR","object":\{"kind":"Status".*"code":403\}\}\n\r\n0\r\n\r\n$/);
    expect(streams[1]!.received()).toContain(said);
    expect(bobsExec.socket.destroyed).toBe(false);

    const endedScopes = [...one.finished, ...two.finished].filter((s) => s.identity?.username === 'alice' && s.outcome?.ended === 'locked');
    expect(endedScopes).toHaveLength(5);
    // The audit event of the lock names what was locked and why.
    const events = await searchEvents(api.deps.audit, {
      from: new Date(api.clock.now().getTime() - 60_000),
      to: new Date(api.clock.now().getTime() + 60_000),
      event: 'lock.created',
    });
    expect(events[0]).toMatchObject({
      event: 'lock.created',
      code: 'TLK00I',
      user: 'kubeport-admin',
      name: 'alice-out',
      target: { user: 'alice' },
      message: 'Suspicious activity.',
    } satisfies Partial<AuditEvent>);
  });

  it("refuses the locked user's new requests and upgrades with the lock's message on both agents, then serves again once removed", async () => {
    const alice = await one.issue({ username: 'alice' });
    const aliceTwo = await two.issue({ username: 'alice' });
    const refused = await one.request(PODS, { credentials: alice });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      message: 'lock targeting User:"alice" is in force: Suspicious activity.',
    });
    expect(await two.raw(rawUpgrade(CAT), aliceTwo)).toMatch(/^HTTP\/1\.1 403 [^]*lock targeting User:\\"alice\\" is in force/);

    await unlock('alice-out');
    await expect.poll(async () => (await one.request(PODS, { credentials: alice })).status, { timeout: 5_000 }).toBe(200);
    await expect.poll(async () => (await two.request(PODS, { credentials: aliceTwo })).status, { timeout: 5_000 }).toBe(200);
    const events = await searchEvents(api.deps.audit, {
      from: new Date(api.clock.now().getTime() - 60_000),
      to: new Date(api.clock.now().getTime() + 60_000),
      event: 'lock.deleted',
    });
    expect(events[0]).toMatchObject({ code: 'TLK01I', name: 'alice-out', target: { user: 'alice' }, message: 'Suspicious activity.' });
  });

  it('a lock on a role or a login locks every holder of it, and ends their streams', async () => {
    const carol = await one.issue({ username: 'carol', roles: ['access', 'oncall'] });
    const dave = await one.issue({ username: 'dave', traits: { kubernetes_groups: ['devs'], logins: ['dave-gh'] } });
    const erin = await one.issue({ username: 'erin' });
    const carolsWatch = await started(one, get(WATCH), carol, /^HTTP\/1\.1 200 /);
    await lock('oncall-out', { target: { role: 'oncall' }, message: 'Maintenance.' });
    await lock('dave-login-out', { target: { login: 'dave-gh' } });
    await streamEnded(carolsWatch);
    expect(carolsWatch.received()).toContain('lock targeting Role:\\"oncall\\" is in force: Maintenance.');
    await expect
      .poll(async () => JSON.parse((await one.request(PODS, { credentials: dave })).body).message, { timeout: 5_000 })
      .toBe('lock targeting Login:"dave-gh" is in force');
    expect(JSON.parse((await one.request(PODS, { credentials: carol })).body).message).toBe(
      'lock targeting Role:"oncall" is in force: Maintenance.',
    );
    expect((await one.request(PODS, { credentials: erin })).status).toBe(200);
    await unlock('oncall-out');
    await unlock('dave-login-out');
  });

  it('a lock that has expired locks nobody (the agent reads its expiry on its own clock)', async () => {
    const frank = await one.issue({ username: 'frank' });
    await lock('frank-briefly', { target: { user: 'frank' }, expires: new Date(api.clock.now().getTime() + 60_000).toISOString() });
    await expect.poll(async () => (await one.request(PODS, { credentials: frank })).status, { timeout: 5_000 }).toBe(403);
    one.clock.advance(61_000);
    try {
      expect((await one.request(PODS, { credentials: frank })).status).toBe(200);
    } finally {
      one.clock.advance(-61_000);
    }
  });
});
