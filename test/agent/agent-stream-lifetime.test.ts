// Anything the agent forwards lives only as long as the certificate and the user's standing
// that allowed it: long responses that are not watches (a service proxied through the API
// server) and upgraded connections alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, rawUpgrade, startAgentHarness } from '../support/agent-harness.js';

const PROXY = '/k8s/dev/api/v1/namespaces/default/services/web/proxy';
const CAT = '/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=cat&stdin=true&stdout=true';

const proxyGet = `GET ${PROXY} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
const execUpgrade = rawUpgrade(CAT);

describe('stream lifetime', () => {
  let h: AgentHarness;
  beforeAll(async () => {
    h = await startAgentHarness();
  });
  afterAll(() => h.close());

  it('ends a proxied service stream once its user is removed', async () => {
    const frank = await h.issue({ username: 'frank' });
    const stream = h.open(proxyGet, frank);
    try {
      await expect.poll(() => stream.received(), { timeout: 3_000 }).toContain('proxied line');
      h.users.set('frank', null);
      await stream.closed;
      const scope = h.finished.find((s) => s.identity?.username === 'frank');
      expect(scope?.outcome).toMatchObject({ status: 200, ended: 'no longer authorized' });
    } finally {
      stream.socket.destroy();
      h.users.delete('frank');
    }
  });

  it('ends a proxied service stream once the certificate that opened it expires', async () => {
    const grace = await h.issue({ username: 'grace' }, { ttlMs: 60_000 });
    const stream = h.open(proxyGet, grace);
    try {
      await expect.poll(() => stream.received(), { timeout: 3_000 }).toContain('proxied line');
      h.clock.advance(2 * 60_000);
      await stream.closed;
      expect(h.finished.find((s) => s.identity?.username === 'grace')?.outcome).toMatchObject({ ended: 'certificate expired' });
    } finally {
      h.clock.advance(-2 * 60_000);
      stream.socket.destroy();
    }
  });

  it('ends an exec session once the certificate that opened it expires', async () => {
    const heidi = await h.issue({ username: 'heidi' }, { ttlMs: 60_000 });
    const session = h.open(execUpgrade, heidi);
    try {
      await expect.poll(() => session.received(), { timeout: 3_000 }).toMatch(/^HTTP\/1\.1 101 /);
      h.clock.advance(2 * 60_000);
      await session.closed;
      expect(h.finished.find((s) => s.identity?.username === 'heidi')?.outcome).toMatchObject({
        status: 101,
        ended: 'certificate expired',
      });
    } finally {
      h.clock.advance(-2 * 60_000);
      session.socket.destroy();
    }
  });

  it('keeps a stream of a user in good standing open across several checks', async () => {
    const ivan = await h.issue({ username: 'ivan' });
    const stream = h.open(proxyGet, ivan);
    try {
      await expect.poll(() => (stream.received().match(/proxied line/g) ?? []).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(5);
      expect(stream.socket.destroyed).toBe(false);
    } finally {
      stream.socket.destroy();
    }
  });
});
