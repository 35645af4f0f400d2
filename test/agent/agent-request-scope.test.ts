// Each request gets the agent's own id (Audit-ID upstream, Audit-Id back to the client), never
// one the client chose, and one scope that the finish hook receives complete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerValues } from '../../lib/demo/kube-apiserver.js';
import { type AgentHarness, type ClientCredentials, startAgentHarness } from '../support/agent-harness.js';

const PODS = '/k8s/dev/api/v1/namespaces/default/pods';

describe('request ids and scopes', () => {
  let h: AgentHarness;
  let alice: ClientCredentials;
  let next = 0;
  beforeAll(async () => {
    h = await startAgentHarness({ newRequestId: () => `agent-id-${++next}` });
    alice = await h.issue({ username: 'alice' });
  });
  afterAll(() => h.close());

  it("sends the agent's Audit-ID upstream instead of the client's, and returns it as Audit-Id", async () => {
    const res = await h.request(PODS, {
      credentials: alice,
      headers: [
        ['Audit-ID', 'chosen-by-client'],
        ['audit-id', 'another'],
      ],
    });
    expect(res.status).toBe(200);
    const id = `agent-id-${next}`;
    expect(headerValues(h.kube.requests.at(-1)!, 'audit-id')).toEqual([id]);
    expect(res.headers['audit-id']).toBe(id);
  });

  it('gives a refused request an id too', async () => {
    const res = await h.request(PODS, {
      credentials: alice,
      headers: [
        ['Impersonate-User', 'admin'],
        ['Audit-ID', 'chosen-by-client'],
      ],
    });
    expect(res.status).toBe(403);
    expect(res.headers['audit-id']).toBe(`agent-id-${next}`);
    expect(h.finished.at(-1)).toMatchObject({ id: `agent-id-${next}`, outcome: { status: 403, ended: 'answered' } });
  });

  it('hands the finish hook one scope with identity, target, principals, timings and outcome', async () => {
    await h.request(`${PODS}?limit=1`, { credentials: alice, headers: [['Impersonate-Group', 'devs']] });
    const scope = h.finished.at(-1)!;
    expect(scope).toMatchObject({
      id: `agent-id-${next}`,
      method: 'GET',
      url: `${PODS}?limit=1`,
      upgrade: false,
      streaming: false,
      identity: { username: 'alice' },
      target: { cluster: 'dev', path: '/api/v1/namespaces/default/pods', query: '?limit=1' },
      cluster: { name: 'dev' },
      impersonation: { users: [], groups: ['devs'] },
      principals: { users: ['alice'], groups: ['devs'] },
      outcome: { status: 200, ended: 'answered' },
    });
    expect(scope.timings.authorizedMs).toBeGreaterThanOrEqual(0);
    expect(scope.timings.upstreamHeadersMs).toBeGreaterThanOrEqual(scope.timings.authorizedMs!);
    expect(scope.timings.finishedMs).toBeGreaterThanOrEqual(scope.timings.upstreamHeadersMs!);
  });
});
