// The agent answers kubectl through core's one error rule, as Kubernetes Status objects, and
// refuses requests its roles do not allow in the API server's own Forbidden sentence.
import { describe, expect, it } from 'vitest';
import { statusFromError } from '../../agent/kube-status.js';
import { KubeportError } from '../../lib/core/errors.js';
import { kubeForbidden } from '../../agent/kube-forbidden.js';
import type { KubeRequestInfo } from '../../lib/core/kube-request-info.js';

describe('agent error statuses', () => {
  it('shows a typed error as it is and hides anything else behind a generic 500, logging its stack', () => {
    const logged: string[] = [];
    const denied = statusFromError(
      new KubeportError('access_denied', 'your roles (dev-only) grant no Kubernetes user or group on cluster "dev"'),
      (m) => logged.push(m),
    );
    expect(denied.code).toBe(403);
    expect(JSON.parse(denied.body)).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      message: 'your roles (dev-only) grant no Kubernetes user or group on cluster "dev"',
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

describe('Forbidden in the API server words', () => {
  const request = (fields: Partial<KubeRequestInfo>): KubeRequestInfo => ({
    isResourceRequest: true,
    verb: 'get',
    apiPrefix: 'api',
    apiGroup: '',
    apiVersion: 'v1',
    namespace: '',
    resource: 'pods',
    subresource: '',
    name: '',
    path: '/api/v1/pods',
    ...fields,
  });
  const status = (info: KubeRequestInfo) => JSON.parse(statusFromError(kubeForbidden('alice', info, 'the rule'), () => undefined).body);

  it.each<[string, Partial<KubeRequestInfo>, string, Record<string, string>]>([
    [
      'a named object in a namespace',
      { verb: 'delete', namespace: 'default', name: 'web-0' },
      'pods "web-0" is forbidden: User "alice" cannot delete resource "pods" in API group "" in the namespace "default": the rule',
      { name: 'web-0', kind: 'pods' },
    ],
    [
      'a list across namespaces',
      { verb: 'list' },
      'pods is forbidden: User "alice" cannot list resource "pods" in API group "" at the cluster scope: the rule',
      { kind: 'pods' },
    ],
    [
      'a subresource of a named group resource',
      {
        apiPrefix: 'apis',
        apiGroup: 'apps',
        verb: 'patch',
        resource: 'deployments',
        subresource: 'scale',
        name: 'web',
        namespace: 'team-a',
      },
      'deployments.apps "web" is forbidden: User "alice" cannot patch resource "deployments/scale" in API group "apps" in the namespace "team-a": the rule',
      { name: 'web', group: 'apps', kind: 'deployments' },
    ],
  ])('names %s as the API server does', (_what, fields, message, details) => {
    expect(status(request(fields))).toMatchObject({ reason: 'Forbidden', code: 403, message, details });
  });

  it('names the path of a non-resource request, with no details', () => {
    const body = status(request({ isResourceRequest: false, verb: 'get', resource: '', path: '/version' }));
    expect(body.message).toBe('forbidden: User "alice" cannot get path "/version": the rule');
    expect(body.details).toBeUndefined();
  });
});
