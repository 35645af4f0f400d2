// Request-info for every kind of request kubectl 1.32 sends, and the edge cases of the API
// server's own resolver (k8s.io/apiserver requestinfo.go) that decide what a role is checked against.
import { describe, expect, it } from 'vitest';
import { type KubeRequestInfo, kubeRequestInfo } from '../../lib/core/kube-request-info.js';

type Expected = Partial<KubeRequestInfo>;

const info = (method: string, target: string) => {
  const at = target.indexOf('?');
  return at === -1
    ? kubeRequestInfo(method, target, new URLSearchParams())
    : kubeRequestInfo(method, target.slice(0, at), new URLSearchParams(target.slice(at + 1)));
};

const core = (fields: Expected): Expected => ({ isResourceRequest: true, apiPrefix: 'api', apiGroup: '', apiVersion: 'v1', ...fields });
const group = (apiGroup: string, apiVersion: string, fields: Expected): Expected => ({
  isResourceRequest: true,
  apiPrefix: 'apis',
  apiGroup,
  apiVersion,
  ...fields,
});
const nonResource = (verb: string, fields: Expected = {}): Expected => ({
  isResourceRequest: false,
  verb,
  resource: '',
  namespace: '',
  name: '',
  subresource: '',
  ...fields,
});
const pod = (verb: string, subresource = '', name = 'web-0') => core({ verb, namespace: 'default', resource: 'pods', name, subresource });

describe('kubeRequestInfo: what kubectl sends', () => {
  it.each<[string, string, string, Expected]>([
    // kubectl get / describe
    [
      'get pods -n default',
      'GET',
      '/api/v1/namespaces/default/pods?limit=500',
      core({ verb: 'list', namespace: 'default', resource: 'pods', name: '' }),
    ],
    ['get pods -A', 'GET', '/api/v1/pods?limit=500', core({ verb: 'list', namespace: '', resource: 'pods', name: '' })],
    ['get pod web-0', 'GET', '/api/v1/namespaces/default/pods/web-0', pod('get')],
    [
      'get pods -w',
      'GET',
      '/api/v1/namespaces/default/pods?resourceVersion=42&watch=true',
      core({ verb: 'watch', resource: 'pods', name: '' }),
    ],
    [
      'get pod web-0 -w',
      'GET',
      '/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dweb-0&resourceVersion=42&watch=true',
      pod('watch'),
    ],
    ['get pods -A -w', 'GET', '/api/v1/pods?watch=true', core({ verb: 'watch', namespace: '', resource: 'pods' })],
    [
      'get deployments',
      'GET',
      '/apis/apps/v1/namespaces/default/deployments?limit=500',
      group('apps', 'v1', { verb: 'list', namespace: 'default', resource: 'deployments' }),
    ],
    [
      'get deployment web',
      'GET',
      '/apis/apps/v1/namespaces/default/deployments/web',
      group('apps', 'v1', { verb: 'get', resource: 'deployments', name: 'web' }),
    ],
    ['get nodes', 'GET', '/api/v1/nodes?limit=500', core({ verb: 'list', namespace: '', resource: 'nodes' })],
    ['get node n1', 'GET', '/api/v1/nodes/n1', core({ verb: 'get', namespace: '', resource: 'nodes', name: 'n1' })],
    ['get namespaces', 'GET', '/api/v1/namespaces?limit=500', core({ verb: 'list', namespace: '', resource: 'namespaces', name: '' })],
    [
      'get namespace kube-system (the namespace object itself)',
      'GET',
      '/api/v1/namespaces/kube-system',
      core({ verb: 'get', namespace: 'kube-system', resource: 'namespaces', name: 'kube-system', subresource: '' }),
    ],
    [
      'get clusterroles',
      'GET',
      '/apis/rbac.authorization.k8s.io/v1/clusterroles?limit=500',
      group('rbac.authorization.k8s.io', 'v1', { verb: 'list', namespace: '', resource: 'clusterroles' }),
    ],
    [
      'get widgets (namespaced CRD)',
      'GET',
      '/apis/example.com/v1alpha1/namespaces/team-a/widgets/w1',
      group('example.com', 'v1alpha1', { verb: 'get', namespace: 'team-a', resource: 'widgets', name: 'w1' }),
    ],
    [
      'describe pod: its events',
      'GET',
      '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb-0%2CinvolvedObject.namespace%3Ddefault%2CinvolvedObject.uid%3Dabc&limit=500',
      core({ verb: 'list', resource: 'events', name: '' }),
    ],
    [
      'top pods',
      'GET',
      '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods',
      group('metrics.k8s.io', 'v1beta1', { verb: 'list', resource: 'pods' }),
    ],
    ['HEAD of a pod', 'HEAD', '/api/v1/namespaces/default/pods/web-0', pod('get')],
    // create / apply / patch / replace / delete
    [
      'create -f pod.yaml',
      'POST',
      '/api/v1/namespaces/default/pods?fieldManager=kubectl-create&fieldValidation=Strict',
      core({ verb: 'create', namespace: 'default', resource: 'pods', name: '' }),
    ],
    [
      'create namespace',
      'POST',
      '/api/v1/namespaces?fieldManager=kubectl-create',
      core({ verb: 'create', namespace: '', resource: 'namespaces', name: '' }),
    ],
    [
      'apply (client side) of an existing pod',
      'PATCH',
      '/api/v1/namespaces/default/pods/web-0?fieldManager=kubectl-client-side-apply&fieldValidation=Strict',
      pod('patch'),
    ],
    [
      'apply --server-side (application/apply-patch+yaml)',
      'PATCH',
      '/api/v1/namespaces/default/pods/web-0?fieldManager=kubectl&fieldValidation=Strict&force=false',
      pod('patch'),
    ],
    ['label / annotate / patch', 'PATCH', '/api/v1/namespaces/default/pods/web-0', pod('patch')],
    ['replace', 'PUT', '/api/v1/namespaces/default/pods/web-0?fieldManager=kubectl-replace', pod('update')],
    [
      'scale',
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/web/scale',
      group('apps', 'v1', { verb: 'patch', resource: 'deployments', name: 'web', subresource: 'scale' }),
    ],
    [
      'rollout restart',
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/web?fieldManager=kubectl-rollout',
      group('apps', 'v1', { verb: 'patch', resource: 'deployments', name: 'web', subresource: '' }),
    ],
    ['update status', 'PUT', '/api/v1/namespaces/default/pods/web-0/status', pod('update', 'status')],
    ['delete pod web-0', 'DELETE', '/api/v1/namespaces/default/pods/web-0', pod('delete')],
    [
      'delete a collection',
      'DELETE',
      '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb',
      core({ verb: 'deletecollection', resource: 'pods', name: '' }),
    ],
    [
      'delete namespace team-a',
      'DELETE',
      '/api/v1/namespaces/team-a',
      core({ verb: 'delete', namespace: 'team-a', resource: 'namespaces', name: 'team-a' }),
    ],
    [
      'namespace status',
      'PUT',
      '/api/v1/namespaces/team-a/status',
      core({ verb: 'update', namespace: 'team-a', resource: 'namespaces', name: 'team-a', subresource: 'status' }),
    ],
    [
      'namespace finalize',
      'PUT',
      '/api/v1/namespaces/team-a/finalize',
      core({ verb: 'update', namespace: 'team-a', resource: 'namespaces', name: 'team-a', subresource: 'finalize' }),
    ],
    // exec, attach, cp, port-forward (WebSocket GET first, then the SPDY POST fallback), logs
    [
      'exec over WebSocket',
      'GET',
      '/api/v1/namespaces/default/pods/web-0/exec?command=sh&container=app&stdin=true&stdout=true&tty=true',
      pod('get', 'exec'),
    ],
    [
      'exec over SPDY',
      'POST',
      '/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdin=true&stdout=true&tty=true',
      pod('create', 'exec'),
    ],
    [
      'cp (tar over exec)',
      'GET',
      '/api/v1/namespaces/default/pods/web-0/exec?command=tar&command=cf&command=-&command=%2Ftmp%2Fx&stderr=true&stdout=true',
      pod('get', 'exec'),
    ],
    ['attach', 'GET', '/api/v1/namespaces/default/pods/web-0/attach?container=app&stdin=true&stdout=true&tty=true', pod('get', 'attach')],
    ['port-forward over WebSocket', 'GET', '/api/v1/namespaces/default/pods/web-0/portforward', pod('get', 'portforward')],
    ['port-forward over SPDY', 'POST', '/api/v1/namespaces/default/pods/web-0/portforward', pod('create', 'portforward')],
    ['logs', 'GET', '/api/v1/namespaces/default/pods/web-0/log?container=app', pod('get', 'log')],
    ['logs -f', 'GET', '/api/v1/namespaces/default/pods/web-0/log?follow=true', pod('get', 'log')],
    [
      'debug (ephemeral container)',
      'PATCH',
      '/api/v1/namespaces/default/pods/web-0/ephemeralcontainers',
      pod('patch', 'ephemeralcontainers'),
    ],
    ['drain: eviction', 'POST', '/api/v1/namespaces/default/pods/web-0/eviction', pod('create', 'eviction')],
    ['binding', 'POST', '/api/v1/namespaces/default/pods/web-0/binding', pod('create', 'binding')],
    [
      'create token',
      'POST',
      '/api/v1/namespaces/default/serviceaccounts/builder/token',
      core({ verb: 'create', resource: 'serviceaccounts', name: 'builder', subresource: 'token' }),
    ],
    // proxies
    ['pod proxy', 'GET', '/api/v1/namespaces/default/pods/web-0:8080/proxy/healthz', pod('get', 'proxy', 'web-0:8080')],
    [
      'service proxy (NAME:PORT)',
      'GET',
      '/api/v1/namespaces/default/services/web:80/proxy/api/items?x=1',
      core({ verb: 'get', resource: 'services', name: 'web:80', subresource: 'proxy' }),
    ],
    [
      'service proxy (https:NAME:PORT)',
      'POST',
      '/api/v1/namespaces/default/services/https:web:443/proxy/',
      core({ verb: 'create', resource: 'services', name: 'https:web:443', subresource: 'proxy' }),
    ],
    [
      'node proxy',
      'GET',
      '/api/v1/nodes/n1/proxy/metrics',
      core({ verb: 'get', namespace: '', resource: 'nodes', name: 'n1', subresource: 'proxy' }),
    ],
    [
      'node proxy with kubelet port',
      'GET',
      '/api/v1/nodes/n1:10250/proxy/stats/summary',
      core({ verb: 'get', namespace: '', resource: 'nodes', name: 'n1:10250', subresource: 'proxy' }),
    ],
    // auth
    [
      'auth can-i',
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      group('authorization.k8s.io', 'v1', { verb: 'create', namespace: '', resource: 'selfsubjectaccessreviews', name: '' }),
    ],
    [
      'auth can-i --list',
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      group('authorization.k8s.io', 'v1', { verb: 'create', resource: 'selfsubjectrulesreviews' }),
    ],
    [
      'auth whoami',
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      group('authentication.k8s.io', 'v1', { verb: 'create', namespace: '', resource: 'selfsubjectreviews', name: '' }),
    ],
  ])('%s: %s %s', (_what, method, target, expected) => {
    expect(info(method, target)).toMatchObject(expected);
  });

  it.each<[string, string, Expected]>([
    ['/api', 'get', { apiPrefix: '' }],
    ['/api/v1', 'get', { apiPrefix: '' }],
    ['/apis', 'get', { apiPrefix: '' }],
    ['/apis/apps', 'get', { apiPrefix: '' }],
    // The resolver has consumed the prefix before it finds /apis/GROUP/VERSION too short.
    ['/apis/apps/v1', 'get', { apiPrefix: 'apis', apiGroup: '' }],
    ['/version', 'get', {}],
    ['/openapi/v2', 'get', {}],
    ['/openapi/v3', 'get', {}],
    ['/openapi/v3/api/v1?hash=ABC', 'get', {}],
    ['/openapi/v3/apis/apps/v1', 'get', {}],
    ['/healthz', 'get', {}],
    ['/livez/ping', 'get', {}],
    ['/readyz', 'get', {}],
    ['/metrics', 'get', {}],
    ['/', 'get', {}],
  ])('discovery and other non-resource path %s', (target, verb, fields) => {
    expect(info('GET', target)).toMatchObject(nonResource(verb, fields));
  });

  it('keeps the lowercased method as the verb of non-resource requests', () => {
    expect(info('POST', '/apis')).toMatchObject(nonResource('post'));
    expect(info('HEAD', '/version')).toMatchObject(nonResource('head'));
  });
});

describe('kubeRequestInfo: the resolver edge cases', () => {
  it.each<[string, string, Expected]>([
    // watch: the first value counts, on unless 0 or false (any case)
    ['/api/v1/pods?watch=1', 'GET', { verb: 'watch' }],
    ['/api/v1/pods?watch=TRUE', 'GET', { verb: 'watch' }],
    ['/api/v1/pods?watch=', 'GET', { verb: 'watch' }],
    ['/api/v1/pods?watch=yes', 'GET', { verb: 'watch' }],
    ['/api/v1/pods?watch=0', 'GET', { verb: 'list' }],
    ['/api/v1/pods?watch=False', 'GET', { verb: 'list' }],
    ['/api/v1/pods?watch=false&watch=true', 'GET', { verb: 'list' }],
    ['/api/v1/pods?watch=true&watch=false', 'GET', { verb: 'watch' }],
    // a watch option on a named object does not make it a watch
    ['/api/v1/namespaces/default/pods/web-0?watch=true', 'GET', { verb: 'get', name: 'web-0' }],
    // the legacy /watch/ prefix, for any method
    ['/api/v1/watch/pods', 'GET', { verb: 'watch', resource: 'pods', namespace: '', name: '' }],
    ['/api/v1/watch/namespaces/default/pods', 'GET', { verb: 'watch', resource: 'pods', namespace: 'default' }],
    ['/api/v1/watch/namespaces/default/pods/web-0', 'GET', { verb: 'watch', resource: 'pods', name: 'web-0' }],
    ['/apis/apps/v1/watch/namespaces/default/deployments', 'POST', { verb: 'watch', apiGroup: 'apps', resource: 'deployments' }],
    ['/api/v1/watch/namespaces', 'GET', { verb: 'watch', resource: 'namespaces', namespace: '' }],
    // the legacy /proxy/ prefix: everything after the name is the proxied path, not a subresource
    ['/api/v1/proxy/namespaces/default/pods/web-0/exec', 'GET', { verb: 'proxy', resource: 'pods', name: 'web-0', subresource: '' }],
    ['/api/v1/proxy/nodes/n1/stats', 'DELETE', { verb: 'proxy', resource: 'nodes', name: 'n1', subresource: '' }],
    // metadata.name field selectors narrow lists and watches (only those) to one name
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3D%3Dweb-0', 'GET', { verb: 'list', name: 'web-0' }],
    [
      '/api/v1/namespaces/default/pods?fieldSelector=status.phase%3DRunning%2Cmetadata.name%3Dweb-0',
      'GET',
      { verb: 'list', name: 'web-0' },
    ],
    // terms are sorted before the first metadata.name term is taken
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dweb-1%2Cmetadata.name%3Dweb-0', 'GET', { name: 'web-0' }],
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name!%3Dweb-0', 'GET', { verb: 'list', name: '' }],
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Da%3Db', 'GET', { verb: 'list', name: '' }],
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Da%5C%2Cb', 'GET', { verb: 'list', name: 'a,b' }],
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Da%5Cx', 'GET', { verb: 'list', name: '' }],
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dweb-0%5C', 'GET', { verb: 'list', name: '' }],
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3D..', 'GET', { name: '' }],
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Da%2Fb', 'GET', { name: '' }],
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Da%25b', 'GET', { name: '' }],
    ['/api/v1/namespaces/default/pods?fieldSelector=nonsense', 'GET', { verb: 'list', name: '' }],
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3D', 'GET', { verb: 'list', name: '' }],
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dweb-0&fieldSelector=metadata.name%3Dweb-1', 'GET', { name: 'web-0' }],
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dweb-0&watch=true', 'GET', { verb: 'watch', name: 'web-0' }],
    // a named get keeps its name whatever the selector says; deletes are never narrowed
    ['/api/v1/namespaces/default/pods/web-0?fieldSelector=metadata.name%3Dother', 'GET', { verb: 'get', name: 'web-0' }],
    ['/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dweb-0', 'DELETE', { verb: 'deletecollection', name: '' }],
    // namespaces named like the namespace subresources, and resources inside them
    ['/api/v1/namespaces/status/pods', 'GET', { verb: 'list', namespace: 'status', resource: 'pods' }],
    ['/api/v1/namespaces/finalize', 'GET', { verb: 'get', namespace: 'finalize', resource: 'namespaces', name: 'finalize' }],
    // trailing slashes are trimmed; extra segments after the subresource are ignored
    ['/api/v1/namespaces/default/pods/', 'GET', { verb: 'list', resource: 'pods', name: '' }],
    ['/api/v1/namespaces/default/pods/web-0/exec/more', 'POST', { verb: 'create', subresource: 'exec', name: 'web-0' }],
    // percent-escapes are decoded as the API server decodes them
    [
      '/api/v1/namespaces/%6bube-system/secrets',
      'GET',
      { verb: 'list', namespace: 'kube-system', resource: 'secrets', path: '/api/v1/namespaces/kube-system/secrets' },
    ],
    ['/api/v1/namespaces/default/%70ods/web-0', 'DELETE', { verb: 'delete', resource: 'pods', name: 'web-0' }],
    // unknown methods get no verb
    ['/api/v1/namespaces/default/pods', 'OPTIONS', { verb: '', resource: 'pods' }],
    ['/api/v1/namespaces/default/pods/web-0', 'CONNECT', { verb: '', resource: 'pods', name: 'web-0' }],
  ])('%s (%s)', (target, method, expected) => {
    expect(info(method, target)).toMatchObject(expected);
  });

  it('fills every field', () => {
    expect(info('GET', '/apis/apps/v1/namespaces/default/deployments/web/scale')).toEqual({
      isResourceRequest: true,
      verb: 'get',
      apiPrefix: 'apis',
      apiGroup: 'apps',
      apiVersion: 'v1',
      namespace: 'default',
      resource: 'deployments',
      subresource: 'scale',
      name: 'web',
      path: '/apis/apps/v1/namespaces/default/deployments/web/scale',
    });
  });

  it.each(['/api/v1/watch', '/apis/apps/v1/proxy', '/api/v1/watch/'])('refuses the special verb %s without a resource', (target) => {
    expect(() => info('GET', target)).toThrow(/names no resource/);
  });

  it('refuses a malformed percent-escape instead of guessing', () => {
    expect(() => info('GET', '/api/v1/namespaces/%zz/pods')).toThrow(/malformed percent-escape/);
    expect(() => info('GET', '/api/v1/namespaces/%ff/pods')).toThrow(/malformed percent-escape/);
  });

  // Longer names reach no object and only feed the role matchers: refused as bad requests.
  it('refuses a namespace longer than a DNS label and a name longer than a DNS subdomain', () => {
    const long = (n: number) => 'a'.repeat(n);
    expect(info('GET', `/api/v1/namespaces/${long(63)}/pods/${long(253)}`)).toMatchObject({ namespace: long(63), name: long(253) });
    expect(() => info('GET', `/api/v1/namespaces/${long(64)}/pods`)).toThrow(/namespace "a+…" is 64 characters long; .* at most 63/);
    expect(() => info('DELETE', `/api/v1/namespaces/${long(64)}`)).toThrow(/at most 63/);
    expect(() => info('GET', `/api/v1/namespaces/default/pods/${long(254)}`)).toThrow(/is 254 characters long; .* at most 253/);
    expect(() => info('GET', `/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3D${long(10_000)}`)).toThrow(/at most 253/);
    expect(() => info('GET', `/api/v1/nodes/${long(10_000)}_`)).toThrow(/at most 253/);
    // A proxy target carries a scheme and a port on top of the name.
    expect(info('GET', `/api/v1/namespaces/default/services/https:${long(253)}:65535/proxy/`).name).toHaveLength(253 + 12);
    expect(() => info('GET', `/api/v1/namespaces/default/services/${long(10_000)}:80/proxy/`)).toThrow(/proxy target/);
  });
});
