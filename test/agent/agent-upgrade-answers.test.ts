// A request with upgrade headers that the API server (or what it proxies) answers without a
// 101 is held to the same rules as everything else the agent forwards: it ends with its user's
// access, its client, its deadline, and a refusal too large to relay; and only the paths that
// use upgrades may take that route at all.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, rawUpgrade, startAgentHarness } from '../support/agent-harness.js';

const upgrade = (path: string) => rawUpgrade(path);
/** Upstream, this answers 200 and a byte every 50 ms for as long as the connection lasts. */
const TRICKLE = '/k8s/custom/api/v1/namespaces/default/services/web/proxy/trickle';
/** Upstream, this answers 200 with 100 KiB and keeps the connection open. */
const LARGE = '/k8s/custom/api/v1/namespaces/default/services/web/proxy/large';

function customUpstream(req: { url?: string }, res: ServerResponse): void {
  if (req.url?.endsWith('/large')) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write(Buffer.alloc(100 * 1024, 'a'));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  const timer = setInterval(() => res.write('x'), 50);
  res.on('close', () => clearInterval(timer));
}

describe('upgrade requests answered without a 101', () => {
  let h: AgentHarness;
  beforeAll(async () => {
    h = await startAgentHarness({ customUpstream });
  });
  afterAll(() => h.close());

  it('ends one with a long answer once its user is removed, and closes its upstream connection', async () => {
    const mallory = await h.issue({ username: 'mallory' });
    const stream = h.open(upgrade(TRICKLE), mallory);
    try {
      await expect.poll(() => h.customConnections.size, { timeout: 3_000 }).toBe(1);
      h.users.set('mallory', null);
      await expect.poll(() => stream.socket.destroyed, { timeout: 2_000 }).toBe(true);
      await expect.poll(() => h.customConnections.size, { timeout: 2_000 }).toBe(0);
      expect(h.finished.find((s) => s.identity?.username === 'mallory')?.outcome).toMatchObject({ ended: 'no longer authorized' });
    } finally {
      stream.socket.destroy();
      h.users.delete('mallory');
    }
  });

  it('closes the upstream connections of clients that left before the answer ended', async () => {
    const trent = await h.issue({ username: 'trent' });
    const clients = Array.from({ length: 5 }, () => h.open(upgrade(TRICKLE), trent));
    try {
      await expect.poll(() => h.customConnections.size, { timeout: 3_000 }).toBe(5);
      for (const client of clients) client.socket.destroy();
      await expect.poll(() => h.customConnections.size, { timeout: 2_000 }).toBe(0);
      const ended = h.finished.filter((s) => s.identity?.username === 'trent').map((s) => s.outcome?.ended);
      expect(ended).toEqual(Array(5).fill('client closed'));
    } finally {
      for (const client of clients) client.socket.destroy();
    }
  });

  it('answers 502 to an answer too large to relay, and finishes the request', async () => {
    const oscar = await h.issue({ username: 'oscar' });
    const client = h.open(upgrade(LARGE), oscar);
    try {
      await expect.poll(() => client.received(), { timeout: 3_000 }).toMatch(/^HTTP\/1\.1 502 /);
      await expect.poll(() => client.socket.destroyed, { timeout: 2_000 }).toBe(true);
      expect(client.received()).toContain('over 64 KiB');
      expect(h.finished.find((s) => s.identity?.username === 'oscar')?.outcome).toMatchObject({ status: 502, ended: 'upstream failed' });
      await expect.poll(() => h.customConnections.size, { timeout: 2_000 }).toBe(0);
    } finally {
      client.socket.destroy();
    }
  });

  it('refuses upgrade headers on paths that take no upgrade with 400, and sends nothing upstream', async () => {
    const alice = await h.issue({ username: 'alice' });
    const before = h.kube.requests.length;
    for (const path of ['/k8s/dev/api/v1/pods', '/k8s/dev/api/v1/secrets?watch=1&timeoutSeconds=600']) {
      const response = await h.raw(upgrade(path), alice);
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
      expect(response).toContain('does not take an upgrade');
    }
    expect(h.kube.requests.length).toBe(before);
  });
});

describe('an upgrade whose answer never completes', () => {
  let h: AgentHarness;
  beforeAll(async () => {
    h = await startAgentHarness({ customUpstream, limits: { upgradeAnswerTimeoutMs: 500 } });
  });
  afterAll(() => h.close());

  it('gets a 504 once the deadline for the whole answer passes, though bytes keep arriving', async () => {
    const peggy = await h.issue({ username: 'peggy' });
    const client = h.open(upgrade(TRICKLE), peggy);
    try {
      await expect.poll(() => client.received(), { timeout: 3_000 }).toMatch(/^HTTP\/1\.1 504 /);
      await expect.poll(() => h.customConnections.size, { timeout: 2_000 }).toBe(0);
      expect(h.finished.find((s) => s.identity?.username === 'peggy')?.outcome).toMatchObject({ status: 504, ended: 'upstream failed' });
    } finally {
      client.socket.destroy();
    }
  });
});
