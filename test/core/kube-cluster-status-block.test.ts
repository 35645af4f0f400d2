import { describe, expect, it } from 'vitest';
import { type ClusterHealth, STALE_AFTER_MS } from '../../lib/core/kube-cluster-health.js';
import { statusBlock, withoutStatusBlock } from '../../lib/core/kube-cluster-status-block.js';

const now = new Date('2026-12-03T10:00:00.000Z');
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
const healthy: ClusterHealth = { cluster: 'prod', status: 'healthy', checked_at: ago(10_000), agent: 'agent-1' };
const unhealthy: ClusterHealth = {
  cluster: 'prod',
  status: 'unhealthy',
  problem: 'cannot_impersonate',
  reason: 'the agent may not impersonate users',
  fix: 'tctl kube bootstrap prod | kubectl apply -f -',
  checked_at: ago(10_000),
  agent: 'agent-1',
};

describe('kube_cluster status block', () => {
  it('a fresh check shows as the agent wrote it, with when and by whom', () => {
    expect(statusBlock(healthy, now)).toEqual({ status: 'healthy', checked_at: healthy.checked_at, agent: 'agent-1' });
    expect(statusBlock(unhealthy, now)).toEqual({
      status: 'unhealthy',
      reason: 'the agent may not impersonate users',
      fix: 'tctl kube bootstrap prod | kubectl apply -f -',
      checked_at: unhealthy.checked_at,
      agent: 'agent-1',
    });
  });

  it('no check, or one older than STALE_AFTER_MS, is unknown and says why', () => {
    expect(statusBlock(undefined, now)).toEqual({
      status: 'unknown',
      reason: 'no agent has checked this cluster yet',
      fix: expect.stringContaining('start an agent'),
    });
    const old = { ...unhealthy, checked_at: ago(STALE_AFTER_MS + 1) };
    expect(statusBlock(old, now)).toEqual({
      status: 'unknown',
      reason: `the last check, by agent-1 at ${old.checked_at}, is too old to say`,
      fix: expect.stringContaining('agent is running'),
      checked_at: old.checked_at,
      agent: 'agent-1',
    });
    expect(statusBlock({ ...healthy, checked_at: ago(STALE_AFTER_MS) }, now).status).toBe('healthy');
    // A time that does not parse says nothing about now.
    expect(statusBlock({ ...healthy, checked_at: 'yesterday' }, now).status).toBe('unknown');
  });

  it('is taken off a kube_cluster document and only there', () => {
    const cluster = { kind: 'kube_cluster', metadata: { name: 'prod' }, spec: {}, status: { status: 'healthy' } };
    expect(withoutStatusBlock(cluster)).toEqual({ kind: 'kube_cluster', metadata: { name: 'prod' }, spec: {} });
    const role = { kind: 'role', metadata: { name: 'r' }, status: 'x' };
    expect(withoutStatusBlock(role)).toBe(role);
    expect(withoutStatusBlock('text')).toBe('text');
    expect(withoutStatusBlock(null)).toBe(null);
  });
});
