// A certificate that outlives every role's max_session_ttl is refused by the agent: the attack is
// a session kept past what the roles allow now (say a role shortened after login).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, startAgentHarness } from '../support/agent-harness.js';
import { roleFromYaml } from '../support/roles.js';

const PODS = '/k8s/dev/api/v1/namespaces/default/pods';
const HOUR = 3_600_000;

describe('max_session_ttl at the agent', () => {
  let h: AgentHarness;

  beforeAll(async () => {
    h = await startAgentHarness();
    h.roles.set(
      'one-hour',
      roleFromYaml(`
kind: role
version: v8
metadata: {name: one-hour}
spec:
  options: {max_session_ttl: 1h}
  allow:
    kubernetes_labels: {'*': '*'}
    kubernetes_groups: ['{{internal.kubernetes_groups}}']
`),
    );
  });
  afterAll(() => h.close());

  it('refuses a certificate longer than every role allows, before the cluster sees it', async () => {
    const long = await h.issue({ username: 'alice', roles: ['one-hour'] }, { ttlMs: 2 * HOUR });
    const before = h.kube.requests.length;
    const res = await h.request(PODS, { credentials: long });
    expect(res.status).toBe(403);
    expect(res.body).toContain('this user cannot request kubernetes access for 2h0m0s');
    expect(h.kube.requests.length).toBe(before);
  });

  it('lets a certificate within max_session_ttl through', async () => {
    const fits = await h.issue({ username: 'alice', roles: ['one-hour'] }, { ttlMs: HOUR });
    expect((await h.request(PODS, { credentials: fits })).status).toBe(200);
  });
});
