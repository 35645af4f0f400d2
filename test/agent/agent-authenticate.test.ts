// The agent keeps the parse of each client certificate for the user's next connections: that must
// never let one certificate speak for another, skip the TLS check of a connection, or skip the
// clock's check on a later request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, newCa, startAgentHarness } from '../support/agent-harness.js';

const PODS = '/k8s/dev/api/v1/namespaces/default/pods';

describe('client certificates on many connections', () => {
  let h: AgentHarness;

  beforeAll(async () => {
    h = await startAgentHarness();
  });
  afterAll(() => h.close());

  it('serves each connection as the user its own certificate names, alternating users', async () => {
    const alice = await h.issue({ username: 'alice' });
    const bob = await h.issue({ username: 'bob' });
    // Each request is a fresh connection; alice's certificate is known to the agent by the third.
    for (const [who, credentials] of [
      ['alice', alice],
      ['bob', bob],
      ['alice', alice],
      ['bob', bob],
    ] as const) {
      const res = await h.request(PODS, { credentials });
      expect(res.status).toBe(200);
      expect(h.kube.requests.at(-1)!.effective?.username).toBe(who);
    }
  });

  it('still refuses a foreign CA certificate for a user whose own certificate is known', async () => {
    const alice = await h.issue({ username: 'alice' });
    expect((await h.request(PODS, { credentials: alice })).status).toBe(200);
    const forged = await h.issue({ username: 'alice' }, { ca: await newCa('Kubeport user CA', h.clock) });
    const res = await h.request(PODS, { credentials: forged });
    expect(res.status).toBe(401);
    expect(res.body).toMatch(/not signed by this Kubeport user CA/);
  });

  it('checks the validity period on a new connection with a known certificate', async () => {
    const short = await h.issue({ username: 'alice' }, { ttlMs: 60_000 });
    expect((await h.request(PODS, { credentials: short })).status).toBe(200);
    h.clock.advance(2 * 60_000);
    try {
      const res = await h.request(PODS, { credentials: short });
      expect(res.status).toBe(401);
      expect(res.body).toMatch(/expired/);
    } finally {
      h.clock.advance(-2 * 60_000);
    }
  });
});
