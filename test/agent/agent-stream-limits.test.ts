// Streams hold an upstream connection for as long as they run, so each user may hold only so
// many at once: watches, followed logs, streamed proxy bodies and upgrades alike. Past the cap a
// user gets 429 with Retry-After; other users are not affected, and a slot comes back when its
// stream ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, rawUpgrade, type OpenConnection, startAgentHarness } from '../support/agent-harness.js';

const FOLLOW = '/k8s/dev/api/v1/namespaces/default/pods/web-0/log?follow=true';
const CAT = '/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=cat&stdin=true&stdout=true';
const followGet = `GET ${FOLLOW} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
const execUpgrade = rawUpgrade(CAT);

describe('streams per user', () => {
  let h: AgentHarness;
  const open: OpenConnection[] = [];
  beforeAll(async () => {
    h = await startAgentHarness({ limits: { maxStreamsPerUser: 2 } });
  });
  afterAll(async () => {
    for (const connection of open) connection.socket.destroy();
    await h.close();
  });
  const started = async (bytes: string, credentials: Parameters<AgentHarness['open']>[1], status: RegExp) => {
    const connection = h.open(bytes, credentials);
    open.push(connection);
    await expect.poll(() => connection.received(), { timeout: 3_000 }).toMatch(status);
    return connection;
  };

  it('answers 429 with Retry-After to one followed log too many, serves another user, and frees the slot when one ends', async () => {
    const mallory = await h.issue({ username: 'mallory' });
    const bob = await h.issue({ username: 'bob' });
    const first = await started(followGet, mallory, /^HTTP\/1\.1 200 /);
    await started(followGet, mallory, /^HTTP\/1\.1 200 /);
    const refused = await h.request(FOLLOW, { credentials: mallory });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toContain('too many streams');
    await started(followGet, bob, /^HTTP\/1\.1 200 /);
    first.socket.destroy();
    await expect
      .poll(() => h.finished.filter((s) => s.identity?.username === 'mallory' && s.outcome?.ended === 'client closed').length)
      .toBe(1);
    await started(followGet, mallory, /^HTTP\/1\.1 200 /);
    for (const connection of open.splice(0)) connection.socket.destroy();
  });

  it('answers 429 with Retry-After to one upgrade too many, while another user execs', async () => {
    const trudy = await h.issue({ username: 'trudy' });
    const carol = await h.issue({ username: 'carol' });
    await started(execUpgrade, trudy, /^HTTP\/1\.1 101 /);
    await started(execUpgrade, trudy, /^HTTP\/1\.1 101 /);
    const before = h.kube.requests.length;
    const refused = await h.raw(execUpgrade, trudy);
    expect(refused).toMatch(/^HTTP\/1\.1 429 /);
    expect(refused).toMatch(/retry-after: 1\r\n/i);
    expect(h.kube.requests.length).toBe(before);
    await started(execUpgrade, carol, /^HTTP\/1\.1 101 /);
    for (const connection of open.splice(0)) connection.socket.destroy();
  });
});

describe('what counts as a stream', () => {
  let h: AgentHarness;
  /** Paths of the requests that reached the API server. */
  const arrived: string[] = [];
  const open: OpenConnection[] = [];
  beforeAll(async () => {
    // An API server that never answers: whatever is sent stays in flight.
    h = await startAgentHarness({
      customUpstream: (req) => arrived.push(req.url ?? ''),
      limits: { maxUpstreamRequestsPerUser: 2, maxStreamsPerUser: 2 },
    });
  });
  afterAll(async () => {
    for (const connection of open) connection.socket.destroy();
    await h.close();
  });
  const send = (bytes: string, credentials: Parameters<AgentHarness['open']>[1]) => {
    const connection = h.open(bytes, credentials);
    open.push(connection);
    return connection;
  };

  it('counts a follow flag outside pods/…/log, and a watch flag on a POST, as ordinary requests', async () => {
    const mallory = await h.issue({ username: 'mallory' });
    const held = [
      send(`GET /k8s/custom/api/v1/pods?follow=true HTTP/1.1\r\nHost: localhost\r\n\r\n`, mallory),
      send(
        `POST /k8s/custom/api/v1/namespaces/default/configmaps?watch=1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}`,
        mallory,
      ),
    ];
    await expect.poll(() => h.customConnections.size, { timeout: 3_000 }).toBe(2);
    const upstreamHeld = [...h.customConnections];
    const refused = send(`GET /k8s/custom/api/v1/secrets?watch=0&follow=1 HTTP/1.1\r\nHost: localhost\r\n\r\n`, mallory);
    await expect.poll(() => refused.received(), { timeout: 3_000 }).toMatch(/^HTTP\/1\.1 429 /);
    expect(refused.received()).toContain('too many requests');
    for (const connection of [...held, refused]) connection.socket.destroy();
    await expect.poll(() => upstreamHeld.every((socket) => socket.destroyed), { timeout: 3_000 }).toBe(true);
  });

  it('counts proxy bodies streamed upstream as streams', async () => {
    const trudy = await h.issue({ username: 'trudy' });
    const trickle = `POST /k8s/custom/api/v1/namespaces/default/services/web/proxy/upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n`;
    send(trickle, trudy);
    send(trickle, trudy);
    // Both bodies are on their way upstream.
    await expect.poll(() => arrived.filter((path) => path.endsWith('/upload')).length, { timeout: 3_000 }).toBe(2);
    const refused = send(trickle, trudy);
    await expect.poll(() => refused.received(), { timeout: 3_000 }).toMatch(/^HTTP\/1\.1 429 /);
    expect(refused.received()).toMatch(/retry-after: 1\r\n/i);
    expect(refused.received()).toContain('too many streams');
  });
});
