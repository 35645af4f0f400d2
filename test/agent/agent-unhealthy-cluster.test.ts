// Fail-fast for an unhealthy cluster: the agent's own health view says the cluster is unhealthy,
// so requests to it (plain, discovery, exec) get a 503 naming the reason and the fix without
// reaching the cluster, audited like any refusal; the real kubectl prints the message. Healthy,
// unknown and stale health let requests through; users who may not reach the cluster learn nothing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unhealthyMessage } from '../../agent/unhealthy-cluster.js';
import { type ClusterHealth, STALE_AFTER_MS } from '../../lib/core/kube-cluster-health.js';
import { type AgentHarness, type ClientCredentials, rawUpgrade, startAgentHarness } from '../support/agent-harness.js';
import { type KubectlUser, kubectlUser } from '../support/agent-kubectl.js';
import { RecordingAuditSink } from '../support/recording-audit-sink.js';

const health = new Map<string, ClusterHealth>();
let h: AgentHarness;
let alice: ClientCredentials;
let kubectl: KubectlUser;
const sink = new RecordingAuditSink();

const unhealthy = (cluster: string, checkedAt = h.clock.now()): ClusterHealth => ({
  cluster,
  status: 'unhealthy',
  problem: 'cannot_impersonate',
  reason: "the agent's role may not impersonate users, groups or service accounts",
  fix: `apply the ClusterRole: tctl kube bootstrap ${cluster} | kubectl apply -f -`,
  checked_at: checkedAt.toISOString(),
  agent: 'agent-1',
});
const message = (cluster: string) =>
  `kube cluster ${cluster} is unhealthy: the agent's role may not impersonate users, groups or service accounts; apply the ClusterRole: tctl kube bootstrap ${cluster} | kubectl apply -f -`;

beforeAll(async () => {
  h = await startAgentHarness({ clusterHealth: { current: (cluster) => health.get(cluster) }, audit: sink });
  alice = await h.issue({ username: 'alice' });
  kubectl = await kubectlUser(h, mkdtempSync(join(tmpdir(), 'kubeport-unhealthy-')), 'alice', ['access']);
});
afterAll(() => h.close());

describe('requests to an unhealthy cluster', () => {
  it('get a 503 Status naming the reason and the fix, without reaching the cluster', async () => {
    health.set('dev', unhealthy('dev'));
    try {
      const before = h.kube.requests.length;
      const answer = await h.request('/k8s/dev/api/v1/namespaces/default/pods', { credentials: alice });
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body)).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: message('dev'),
        reason: 'ServiceUnavailable',
        code: 503,
      });
      // No Retry-After: kubectl would wait and retry, silently, a cluster that stays broken.
      expect(answer.headers['retry-after']).toBeUndefined();
      const upgrade = await h.raw(rawUpgrade('/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdout=true'), alice);
      expect(upgrade).toMatch(/^HTTP\/1\.1 503 /);
      expect(upgrade).toContain(JSON.stringify(message('dev')));
      // Discovery gets the message as text, as a 502: kubectl prints its own sentence instead of the text of a 503.
      const discovery = await h.request('/k8s/dev/api', { credentials: alice });
      expect(discovery).toMatchObject({ status: 502, body: `${message('dev')}\n` });
      expect(discovery.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(h.kube.requests.length).toBe(before);
      // Another cluster is not affected.
      expect((await h.request('/k8s/prod/api/v1/namespaces/default/pods', { credentials: alice })).status).toBe(200);
    } finally {
      health.delete('dev');
    }
  });

  it('are audited as refusals with the message', async () => {
    health.set('dev', unhealthy('dev'));
    try {
      const answer = await h.request('/k8s/dev/api/v1/namespaces/default/pods/web-0', { credentials: alice });
      const event = sink.byUid(answer.headers['audit-id'] as string);
      expect(event).toMatchObject({
        event: 'kube.request',
        user: 'alice',
        kubernetes_cluster: 'dev',
        response_code: 503,
        end_reason: 'answered',
        message: message('dev'),
      });
      // A discovery request refused so is logged on its own too, not folded into kube.discovery counts.
      const discovery = await h.request('/k8s/dev/apis', { credentials: alice });
      expect(sink.byUid(discovery.headers['audit-id'] as string)).toMatchObject({ event: 'kube.request', message: message('dev') });
    } finally {
      health.delete('dev');
    }
  });

  it('are printed by kubectl: get, discovery (api-resources) and exec', async () => {
    health.set('dev', unhealthy('dev'));
    try {
      const get = await kubectl.kubectl('get', 'pods');
      expect(get.code).not.toBe(0);
      expect(get.stderr).toContain(message('dev'));
      const resources = await kubectl.kubectl('api-resources');
      expect(resources.code).not.toBe(0);
      expect(resources.stderr).toContain(message('dev'));
      const exec = await kubectl.kubectl('exec', 'web-0', '--', 'echo', 'hi');
      expect(exec.code).not.toBe(0);
      expect(exec.stderr).toContain(message('dev'));
    } finally {
      health.delete('dev');
    }
    const get = await kubectl.kubectl('get', 'pods');
    expect(get.code, get.stderr).toBe(0);
    // With discovery cached, the pod list's own Status is what kubectl prints.
    health.set('dev', unhealthy('dev'));
    try {
      const cached = await kubectl.kubectl('get', 'pods');
      expect(cached.stderr).toBe(`Error from server (ServiceUnavailable): ${message('dev')}\n`);
    } finally {
      health.delete('dev');
    }
  });

  it('go through while health is unknown, healthy, or too old to say anything', async () => {
    const pods = () => h.request('/k8s/dev/api/v1/namespaces/default/pods', { credentials: alice });
    expect((await pods()).status).toBe(200);
    health.set('dev', { ...unhealthy('dev'), status: 'healthy' });
    expect((await pods()).status).toBe(200);
    health.set('dev', unhealthy('dev', new Date(h.clock.now().getTime() - STALE_AFTER_MS - 1_000)));
    expect((await pods()).status).toBe(200);
    health.delete('dev');
  });

  it('are refused for access first: a user the roles keep off the cluster learns nothing of its health', async () => {
    health.set('prod', unhealthy('prod'));
    try {
      const answer = await h.request('/k8s/prod/api/v1/namespaces/default/pods', {
        credentials: await h.issue({ username: 'bob', roles: [] }),
      });
      expect(answer.status).toBe(403);
      expect(answer.body).not.toContain('unhealthy');
    } finally {
      health.delete('prod');
    }
  });

  it('name the problem when the check gave no reason, and leave out a missing fix', () => {
    const bare: ClusterHealth = { cluster: 'c1', status: 'unhealthy', problem: 'unreachable', checked_at: '', agent: 'a' };
    expect(unhealthyMessage(bare)).toBe('kube cluster c1 is unhealthy: unreachable');
    expect(unhealthyMessage({ ...bare, reason: 'no route', fix: 'open 443' })).toBe('kube cluster c1 is unhealthy: no route; open 443');
  });
});
