// One user must not be able to take the upstream connections every user shares: bodies are
// read (within a deadline, up to a cap) before a request goes upstream, and each user may have
// only so many requests in flight on the shared pool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, type ClientCredentials, startAgentHarness } from '../support/agent-harness.js';

const PODS = '/k8s/dev/api/v1/namespaces/default/pods';
const REVIEWS = '/k8s/dev/apis/authentication.k8s.io/v1/selfsubjectreviews';
const PROXY = '/k8s/dev/api/v1/namespaces/default/services/web/proxy';

describe('a user with requests whose bodies never arrive', () => {
  let h: AgentHarness;
  beforeAll(async () => {
    // As many connections from one address as the shared pool has (256), so the attack fits.
    h = await startAgentHarness({ limits: { maxConnectionsPerSource: 300 } });
  });
  afterAll(() => h.close());

  it('does not hold the connections another user needs', async () => {
    const mallory = await h.issue({ username: 'mallory' });
    const alice = await h.issue({ username: 'alice' });
    let arrived = 0;
    h.agent.server.on('request', () => arrived++);
    const attack = Array.from({ length: 256 }, () =>
      h.open(`POST ${REVIEWS} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`, mallory),
    );
    try {
      await Promise.all(attack.map((a) => a.written));
      // Every request of the attack is in the agent's hands before alice asks.
      await expect.poll(() => arrived, { timeout: 10_000 }).toBeGreaterThanOrEqual(256);
      const started = Date.now();
      const res = await h.request(PODS, { credentials: alice });
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      for (const a of attack) a.socket.destroy();
    }
  }, 30_000);
});

describe('request bodies', () => {
  let h: AgentHarness;
  let alice: ClientCredentials;
  beforeAll(async () => {
    h = await startAgentHarness({ limits: { bodyTimeoutMs: 200, maxBodyBytes: 1024 } });
    alice = await h.issue({ username: 'alice' });
  });
  afterAll(() => h.close());

  it('answers a body that stops arriving with 408 once the deadline passes, and forwards nothing', async () => {
    const before = h.kube.requests.length;
    const slow = h.open(
      `POST ${REVIEWS} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a"`,
      alice,
    );
    await slow.closed;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(slow.received().split('\r\n\r\n')[1]!)).toMatchObject({ kind: 'Status', code: 408, reason: 'Timeout' });
    expect(slow.received()).toMatch(/did not arrive within 0\.2 s/);
    expect(h.kube.requests.length).toBe(before);
  });

  it('refuses an announced body over the cap with 413 without waiting for it', async () => {
    const before = h.kube.requests.length;
    const big = h.open(
      `POST ${REVIEWS} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n`,
      alice,
    );
    await big.closed;
    expect(big.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(big.received()).toContain('"reason":"RequestEntityTooLarge"');
    expect(h.kube.requests.length).toBe(before);
  });

  it('refuses a chunked body that grows over the cap with 413', async () => {
    const chunk = 'x'.repeat(800);
    const res = await h.raw(
      `POST ${REVIEWS} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n${chunk}\r\n320\r\n${chunk}\r\n0\r\n\r\n`,
      alice,
    );
    expect(res).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('forwards a body within the cap whole, and streams a larger one to a proxied service', async () => {
    const body = JSON.stringify({ kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' });
    const review = await h.request(REVIEWS, { credentials: alice, method: 'POST', headers: [['Content-Type', 'application/json']], body });
    expect(review.status).toBe(201);
    const proxied = await h.request(PROXY, {
      credentials: alice,
      method: 'POST',
      headers: [['Content-Type', 'application/octet-stream']],
      body: 'y'.repeat(100_000),
    });
    expect(proxied.status, proxied.body).toBe(200);
    expect(JSON.parse(proxied.body)).toEqual({ received: 100_000 });
  });
});

describe('requests in flight per user', () => {
  let h: AgentHarness;
  beforeAll(async () => {
    h = await startAgentHarness({ limits: { maxUpstreamRequestsPerUser: 2 } });
  });
  afterAll(() => h.close());

  it('answers 429 with Retry-After past the cap, while another user is served', async () => {
    const mallory = await h.issue({ username: 'mallory' });
    const alice = await h.issue({ username: 'alice' });
    const get = `GET ${PROXY} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
    // Long responses that are not watches take a connection of the shared pool for as long as they run.
    const open = [h.open(get, mallory), h.open(get, mallory)];
    try {
      await expect.poll(() => open.every((o) => o.received().includes('proxied line')), { timeout: 3_000 }).toBe(true);
      const refused = await h.request(PODS, { credentials: mallory });
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect(JSON.parse(refused.body)).toMatchObject({
        kind: 'Status',
        reason: 'TooManyRequests',
        code: 429,
        details: { retryAfterSeconds: 1 },
      });
      expect((await h.request(PODS, { credentials: alice })).status).toBe(200);
      open[0]!.socket.destroy();
      await expect.poll(async () => (await h.request(PODS, { credentials: mallory })).status, { timeout: 3_000 }).toBe(200);
    } finally {
      for (const o of open) o.socket.destroy();
    }
  });
});
