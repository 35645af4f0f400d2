// The agent answers kubectl through core's one error rule, as Kubernetes Status objects.
import { describe, expect, it } from 'vitest';
import { statusFromError } from '../../agent/kube-status.js';
import { KubeportError } from '../../lib/core/errors.js';

describe('agent error statuses', () => {
  it('shows a typed error as it is and hides anything else behind a generic 500, logging its stack', () => {
    const logged: string[] = [];
    const denied = statusFromError(
      new KubeportError('access_denied', 'kubernetes cluster "prod" is not allowed by your roles (dev-only)'),
      (m) => logged.push(m),
    );
    expect(denied.code).toBe(403);
    expect(JSON.parse(denied.body)).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      message: 'kubernetes cluster "prod" is not allowed by your roles (dev-only)',
    });
    expect(logged).toEqual([]);

    for (const error of [
      new Error('connect ECONNREFUSED 10.1.2.3:6443'),
      new KubeportError('invalid_config', 'upstream CA file unreadable'),
    ]) {
      const hidden = statusFromError(error, (m) => logged.push(m));
      expect(hidden.code).toBe(500);
      expect(JSON.parse(hidden.body)).toMatchObject({
        reason: 'InternalError',
        message: 'Kubeport agent internal error; its log has the details',
      });
      expect(hidden.body).not.toMatch(/ECONNREFUSED|unreadable|\bat /);
    }
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatch(/ECONNREFUSED[^]*\n\s+at /);
  });
});
