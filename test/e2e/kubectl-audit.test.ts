// The real kubectl through the agent, audited through the real writer into the DynamoDB audit
// table: each command leaves exactly one kube.request (its discovery requests are counted, not
// logged), with the Audit-ID the cluster got as uid, the principals it got as Impersonate-*, the
// resource, the response code and kubectl's User-Agent; a forbidden request included.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../lib/core/ports.js';
import { type Role, parseResource } from '../../lib/core/resources.js';
import { headerValues } from '../../lib/demo/kube-apiserver.js';
import { type AgentHarness, startAgentHarness } from '../support/agent-harness.js';
import { type KubectlUser, kubectlUser } from '../support/agent-kubectl.js';
import { type AuditedStore, startAuditedStore } from '../support/audited-store.js';

function role(name: string, spec: Record<string, unknown>): Role {
  const parsed = parseResource({ kind: 'role', version: 'v8', metadata: { name }, spec }, 'role.yaml');
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.resource as Role;
}

describe('kube.request events of real kubectl commands', () => {
  let h: AgentHarness;
  let store: AuditedStore;
  let alice: KubectlUser;
  const seen = new Set<string>();

  beforeAll(async () => {
    store = await startAuditedStore();
    h = await startAgentHarness({
      audit: store.writer,
      kube: { namespaces: ['default', 'kube-system', 'team'], configMaps: { team: [{ name: 'settings', data: { a: '1' } }] } },
    });
    h.roles.set(
      'team-editor',
      role('team-editor', {
        allow: {
          kubernetes_labels: { '*': '*' },
          kubernetes_groups: ['devs'],
          kubernetes_resources: [{ kind: '*', api_group: '*', namespace: '*', name: '*', verbs: ['*'] }],
        },
        deny: { kubernetes_resources: [{ kind: 'secrets', api_group: '', namespace: 'kube-system', name: '*', verbs: ['*'] }] },
      }),
    );
    alice = await kubectlUser(h, mkdtempSync(join(tmpdir(), 'kubeport-kubectl-audit-')), 'alice', ['team-editor']);
  });
  afterAll(async () => {
    await h?.close();
    await store?.close();
  });

  /** The kube.request events stored since the last call. */
  const newRequests = async (): Promise<AuditEvent[]> => {
    await store.writer.flush(5_000);
    const fresh = (await store.stored()).filter((e) => e.event === 'kube.request' && !seen.has(e.uid));
    for (const event of fresh) seen.add(event.uid);
    return fresh;
  };
  /** What the cluster received with this Audit-ID. */
  const upstream = (uid: string) => h.kube.requests.filter((r) => headerValues(r, 'audit-id').includes(uid));

  it('kubectl get pods: one event, uid = the Audit-ID upstream, principals = the Impersonate-* headers', { timeout: 60_000 }, async () => {
    const got = await alice.kubectl('get', 'pods');
    expect(got.stderr).toBe('');
    const events = await newRequests();
    expect(events).toHaveLength(1);
    const [event] = events;
    const [received] = upstream(event!.uid);
    expect(received).toBeDefined();
    expect(event).toMatchObject({
      code: 'T3009I',
      user: 'alice',
      kubernetes_cluster: 'dev',
      verb: 'GET',
      request_path: '/api/v1/namespaces/default/pods',
      resource_api_group: 'core/v1',
      resource_kind: 'pods',
      resource_namespace: 'default',
      response_code: 200,
      kubernetes_users: headerValues(received!, 'impersonate-user'),
      kubernetes_groups: headerValues(received!, 'impersonate-group'),
      'addr.remote': '127.0.0.1',
    });
    expect(event!.user_agent).toMatch(/^kubectl\/v1\.32/);
  });

  it('kubectl -n team delete configmap settings: one event naming the object and the answer', { timeout: 60_000 }, async () => {
    // --wait=false: otherwise kubectl asks once more whether the object is gone (a second request, a second event).
    const deleted = await alice.kubectl('-n', 'team', 'delete', 'configmap', 'settings', '--wait=false');
    expect(deleted.stdout).toBe('configmap "settings" deleted\n');
    const events = await newRequests();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      user: 'alice',
      verb: 'DELETE',
      request_path: '/api/v1/namespaces/team/configmaps/settings',
      resource_api_group: 'core/v1',
      resource_kind: 'configmaps',
      resource_namespace: 'team',
      resource_name: 'settings',
      response_code: 200,
      end_reason: 'answered',
    });
    expect(upstream(events[0]!.uid)).toHaveLength(1);
  });

  it('a request the roles forbid: one event with 403 and the refusal; nothing reached the cluster', { timeout: 60_000 }, async () => {
    const refused = await alice.kubectl('-n', 'kube-system', 'get', 'secrets');
    expect(refused.stderr).toMatch(/^Error from server \(Forbidden\): secrets is forbidden/);
    const events = await newRequests();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      user: 'alice',
      verb: 'GET',
      resource_kind: 'secrets',
      resource_namespace: 'kube-system',
      response_code: 403,
      message: expect.stringMatching(/forbidden/),
    });
    expect(upstream(events[0]!.uid)).toHaveLength(0);
  });

  it('counts kubectl’s discovery requests into kube.discovery, handed over when the agent closes', { timeout: 60_000 }, async () => {
    await h.agent.close();
    await store.writer.flush(5_000);
    const counted = (await store.stored()).filter((e) => e.event === 'kube.discovery' && e.user === 'alice');
    expect(counted.length).toBeGreaterThan(0);
    expect(counted.reduce((sum, e) => sum + (e.count as number), 0)).toBeGreaterThan(0);
    expect(store.writer.counters().dropped).toBe(0);
  });
});
