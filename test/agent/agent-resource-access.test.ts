// The agent checks what each request does (verb, resource, namespace, name, as the API server
// reads them) against the roles' kubernetes_resources, before anything reaches the cluster, and
// refuses with a Forbidden Status that names the rule. Each refusal here is an attack on a check
// the agent did not make before: the counting upstream shows nothing got through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerValues } from '../../lib/demo/kube-apiserver.js';
import { type AgentHarness, type ClientCredentials, rawUpgrade, startAgentHarness } from '../support/agent-harness.js';
import { roleFromYaml } from '../support/roles.js';

const DEFAULT_PODS = '/k8s/dev/api/v1/namespaces/default/pods';

describe('kubernetes_resources on every request', () => {
  let h: AgentHarness;
  let reader: ClientCredentials;
  let operator: ClientCredentials;
  const upstreamCount = () => h.kube.requests.length;

  /** Sends the request and expects a refusal the cluster never saw. */
  const refused = async (path: string, credentials: ClientCredentials, method = 'GET') => {
    const before = upstreamCount();
    const res = await h.request(path, { credentials, method });
    expect(upstreamCount(), `${method} ${path} reached the cluster`).toBe(before);
    return res;
  };

  /** The status line and headers of an upgrade's answer; the connection is dropped once they arrive. */
  const upgradeAnswer = async (path: string, credentials: ClientCredentials, extra = '') => {
    const connection = h.open(rawUpgrade(path, extra), credentials);
    await expect.poll(() => connection.received(), { timeout: 3_000 }).toMatch(/\r\n\r\n/);
    connection.socket.destroy();
    return connection.received();
  };

  beforeAll(async () => {
    h = await startAgentHarness();
    // v8: pods in default, read only.
    h.roles.set(
      'pod-reader',
      roleFromYaml(`
kind: role
version: v8
metadata: {name: pod-reader}
spec:
  allow:
    kubernetes_labels: {'*': '*'}
    kubernetes_groups: [devs]
    kubernetes_resources:
      - {kind: pods, api_group: '', namespace: default, name: '*', verbs: [get, list, watch]}
`),
    );
    // Everything, but never secrets, nor anything in kube-system; exec allowed on web-*.
    h.roles.set(
      'operator',
      roleFromYaml(`
kind: role
version: v8
metadata: {name: operator}
spec:
  allow:
    kubernetes_labels: {'*': '*'}
    kubernetes_groups: [devs]
    kubernetes_resources:
      - {kind: '*', api_group: '*', namespace: '*', name: '*', verbs: ['*']}
  deny:
    kubernetes_resources:
      - {kind: secrets, api_group: '', namespace: '*', name: '*', verbs: ['*']}
      - {kind: '*', api_group: '*', namespace: kube-system, name: '*', verbs: ['*']}
      # v8: everything inside kube-system is not the namespace object itself, which needs its own entry.
      - {kind: namespaces, api_group: '', name: kube-system, verbs: ['*']}
`),
    );
    reader = await h.issue({ username: 'rita', roles: ['pod-reader'] });
    operator = await h.issue({ username: 'otto', roles: ['operator'] });
  });
  afterAll(() => h.close());

  describe('an allow entry narrowed to pods in default, get/list/watch', () => {
    it('serves what the entry allows, discovery included', async () => {
      expect((await h.request(DEFAULT_PODS, { credentials: reader })).status).toBe(200);
      expect((await h.request(`${DEFAULT_PODS}/web-0`, { credentials: reader })).status).toBe(200);
      expect((await h.request('/k8s/dev/api', { credentials: reader })).status).toBe(200);
      expect((await h.request('/k8s/dev/apis', { credentials: reader })).status).toBe(200);
      expect((await h.request('/k8s/dev/version', { credentials: reader })).status).toBe(200);
    });

    it.each([
      '/k8s/dev/apis/authentication.k8s.io/v1/selfsubjectreviews',
      '/k8s/dev/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    ])('lets the self-review %s through: it shows the caller only', async (path) => {
      const body = JSON.stringify({
        kind: path.includes('access') ? 'SelfSubjectAccessReview' : 'SelfSubjectReview',
        apiVersion: path.includes('access') ? 'authorization.k8s.io/v1' : 'authentication.k8s.io/v1',
        spec: { resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'default' } },
      });
      const res = await h.request(path, {
        credentials: reader,
        method: 'POST',
        body,
        headers: [['Content-Type', 'application/json']],
      });
      expect(res.status, res.body).toBe(201);
    });

    it('answers kubectl auth can-i "no" itself, with the rule, for a request the roles refuse', async () => {
      const review = (namespace: string, verb: string) =>
        JSON.stringify({
          kind: 'SelfSubjectAccessReview',
          apiVersion: 'authorization.k8s.io/v1',
          spec: { resourceAttributes: { verb, resource: 'pods', namespace } },
        });
      const ask = (body: string) =>
        h.request('/k8s/dev/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          credentials: reader,
          method: 'POST',
          body,
          headers: [['Content-Type', 'application/json']],
        });
      const before = upstreamCount();
      const refused = await ask(review('kube-system', 'list'));
      expect(refused.status).toBe(201);
      expect(upstreamCount()).toBe(before);
      const answer = JSON.parse(refused.body);
      expect(answer).toMatchObject({
        kind: 'SelfSubjectAccessReview',
        apiVersion: 'authorization.k8s.io/v1',
        spec: { resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'kube-system' } },
        status: { allowed: false },
      });
      expect(answer.status.reason).toMatch(/^access to list pods in namespace "kube-system" denied: .*pod-reader/);
      expect(JSON.parse((await ask(review('default', 'delete'))).body).status.allowed).toBe(false);
      // What the roles allow, the cluster's own RBAC answers.
      const allowed = await ask(review('default', 'list'));
      expect(upstreamCount()).toBe(before + 1);
      expect(JSON.parse(allowed.body).status.allowed).toBe(true);
    });

    it("refuses another namespace with the API server's Forbidden Status naming the role", async () => {
      const res = await refused('/k8s/dev/api/v1/namespaces/kube-system/pods?limit=500', reader);
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toBe('application/json');
      const status = JSON.parse(res.body);
      expect(status).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, details: { kind: 'pods' } });
      expect(status.message).toMatch(
        /^pods is forbidden: User "rita" cannot list resource "pods" in API group "" in the namespace "kube-system": .*pod-reader/,
      );
    });

    it.each([
      ['a list across all namespaces', 'GET', '/k8s/dev/api/v1/pods'],
      ['a watch across all namespaces', 'GET', '/k8s/dev/api/v1/pods?watch=true'],
      ['a legacy /watch/ path into kube-system', 'GET', '/k8s/dev/api/v1/watch/namespaces/kube-system/pods'],
      ['a delete', 'DELETE', `${DEFAULT_PODS}/web-0`],
      ['a delete of the whole collection', 'DELETE', DEFAULT_PODS],
      ['a create', 'POST', DEFAULT_PODS],
      ['a server-side apply', 'PATCH', `${DEFAULT_PODS}/web-0?fieldManager=kubectl`],
      ['a replace', 'PUT', `${DEFAULT_PODS}/web-0`],
      ['another kind in the same namespace', 'GET', '/k8s/dev/api/v1/namespaces/default/services'],
      ['the same kind in another group', 'GET', '/k8s/dev/apis/metrics.k8s.io/v1beta1/namespaces/default/pods'],
      ['the namespace object itself', 'GET', '/k8s/dev/api/v1/namespaces/default'],
      ['logs (pods/log is get on pods, but exec is not)', 'POST', `${DEFAULT_PODS}/web-0/exec?command=sh&stdout=true`],
      ['a port-forward', 'POST', `${DEFAULT_PODS}/web-0/portforward`],
      [
        'a token for a service account (create, but no self-review)',
        'POST',
        '/k8s/dev/api/v1/namespaces/default/serviceaccounts/default/token',
      ],
      ['a review of another subject', 'POST', '/k8s/dev/apis/authorization.k8s.io/v1/subjectaccessreviews'],
      ['a self-review deleted, which is no self-review', 'DELETE', '/k8s/dev/apis/authentication.k8s.io/v1/selfsubjectreviews/x'],
      ['a proxy to the pod', 'GET', `${DEFAULT_PODS}/web-0:8080/proxy/`],
      ['an escaped namespace', 'GET', '/k8s/dev/api/v1/namespaces/%6bube-system/pods'],
      ['an OPTIONS request, which has no Kubernetes verb', 'OPTIONS', DEFAULT_PODS],
    ])('refuses %s', async (_what, method, path) => {
      const res = await refused(path, reader, method);
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ reason: 'Forbidden', code: 403 });
    });

    it('refuses an exec upgrade before it goes upstream, and lets it through once exec is granted', async () => {
      const exec = `${DEFAULT_PODS}/web-0/exec?command=echo&command=hi&stdout=true`;
      const before = upstreamCount();
      const answer = await h.raw(rawUpgrade(exec), reader);
      expect(answer).toMatch(/^HTTP\/1\.1 403 /);
      expect(answer).toContain('cannot get resource \\"pods/exec\\" in API group \\"\\" in the namespace \\"default\\"');
      expect(upstreamCount()).toBe(before);
      h.roles.set(
        'pod-exec',
        roleFromYaml(`
kind: role
version: v8
metadata: {name: pod-exec}
spec:
  allow:
    kubernetes_labels: {'*': '*'}
    kubernetes_groups: [devs]
    kubernetes_resources:
      - {kind: pods, api_group: '', namespace: default, name: 'web-*', verbs: [exec]}
`),
      );
      const execer = await h.issue({ username: 'rita', roles: ['pod-reader', 'pod-exec'] });
      expect(await upgradeAnswer(exec, execer)).toMatch(/^HTTP\/1\.1 101 /);
    });
  });

  describe('a deny entry wins over an allow of everything', () => {
    it('serves what no deny entry covers', async () => {
      expect((await h.request(DEFAULT_PODS, { credentials: operator })).status).toBe(200);
      expect((await h.request(`${DEFAULT_PODS}/web-0/log`, { credentials: operator })).status).toBe(200);
    });

    it.each([
      ['secrets in default', 'GET', '/k8s/dev/api/v1/namespaces/default/secrets'],
      ['one secret by name', 'GET', '/k8s/dev/api/v1/namespaces/default/secrets/db-password'],
      ['secrets in every namespace', 'GET', '/k8s/dev/api/v1/secrets'],
      ['a watch on secrets through the legacy prefix', 'GET', '/k8s/dev/api/v1/watch/namespaces/default/secrets'],
      ['secrets spelled with an escape', 'GET', '/k8s/dev/api/v1/namespaces/default/%73ecrets'],
      ['secrets with a trailing slash', 'GET', '/k8s/dev/api/v1/namespaces/default/secrets/'],
      ['a HEAD of a secret', 'HEAD', '/k8s/dev/api/v1/namespaces/default/secrets/db-password'],
      ['pods in kube-system', 'GET', '/k8s/dev/api/v1/namespaces/kube-system/pods'],
      ['pods across all namespaces (the answer would hold kube-system)', 'GET', '/k8s/dev/api/v1/pods?watch=1'],
      ['kube-system spelled with an escape', 'GET', '/k8s/dev/api/v1/namespaces/kube-syst%65m/pods'],
      ['the kube-system namespace object', 'DELETE', '/k8s/dev/api/v1/namespaces/kube-system'],
      ['the kube-system namespace status', 'PUT', '/k8s/dev/api/v1/namespaces/kube-system/status'],
    ])('refuses %s', async (_what, method, path) => {
      const res = await refused(path, operator, method);
      expect(res.status).toBe(403);
      if (method !== 'HEAD') expect(JSON.parse(res.body).message).toMatch(/is forbidden: User "otto" cannot .*operator/);
    });
  });

  describe('a field selector narrows a list to the one name a role allows', () => {
    beforeAll(() => {
      h.roles.set(
        'one-pod',
        roleFromYaml(`
kind: role
version: v8
metadata: {name: one-pod}
spec:
  allow:
    kubernetes_labels: {'*': '*'}
    kubernetes_groups: [devs]
    kubernetes_resources:
      - {kind: pods, api_group: '', namespace: default, name: web-0, verbs: [get, list, watch]}
`),
      );
    });

    it('serves kubectl get pod web-0 -w (a watch narrowed by metadata.name) and refuses the whole list', async () => {
      const one = await h.issue({ username: 'una', roles: ['one-pod'] });
      expect((await h.request(`${DEFAULT_PODS}?fieldSelector=metadata.name%3Dweb-0`, { credentials: one })).status).toBe(200);
      expect((await refused(DEFAULT_PODS, one)).status).toBe(403);
      expect((await refused(`${DEFAULT_PODS}?fieldSelector=metadata.name!%3Dweb-0`, one)).status).toBe(403);
      expect((await refused(`${DEFAULT_PODS}?fieldSelector=metadata.name%3Dweb-1`, one)).status).toBe(403);
      // Both terms apply upstream, so nothing but web-0 can come back; the API server reads the first after sorting.
      const both = await h.request(`${DEFAULT_PODS}?fieldSelector=metadata.name%3Dweb-1%2Cmetadata.name%3Dweb-0`, { credentials: one });
      expect(both.status).toBe(200);
    });

    it('refuses, as a bad request, a selector the cluster would drop but the agent would read', async () => {
      const one = await h.issue({ username: 'una', roles: ['one-pod'] });
      // Go drops a query pair with ";" (the cluster would list every pod); URLSearchParams keeps it.
      const res = await refused(`${DEFAULT_PODS}?fieldSelector=metadata.name%3Dweb-0;`, one);
      expect(res.status).toBe(400);
      expect((await refused(`${DEFAULT_PODS}?fieldSelector=metadata.name%3Dweb-0%zz`, one)).status).toBe(400);
    });
  });

  describe('a proxy path names its object with a scheme and port (deny entries still apply)', () => {
    let proxier: ClientCredentials;
    beforeAll(async () => {
      h.roles.set(
        'proxy-but-admin',
        roleFromYaml(`
kind: role
version: v8
metadata: {name: proxy-but-admin}
spec:
  allow:
    kubernetes_labels: {'*': '*'}
    kubernetes_groups: [devs]
    kubernetes_resources:
      - {kind: '*', api_group: '*', namespace: '*', name: '*', verbs: ['*']}
  deny:
    kubernetes_resources:
      - {kind: services, api_group: '', namespace: default, name: admin, verbs: ['*']}
      - {kind: pods, api_group: '', namespace: default, name: web-1, verbs: ['*']}
`),
      );
      proxier = await h.issue({ username: 'pia', roles: ['proxy-but-admin'] });
    });

    it.each([
      '/k8s/dev/api/v1/namespaces/default/services/admin:80/proxy/',
      '/k8s/dev/api/v1/namespaces/default/services/https:admin:/proxy/metrics',
      '/k8s/dev/api/v1/namespaces/default/services/http:admin:8080/proxy/',
      '/k8s/dev/api/v1/namespaces/default/services/admin/proxy/',
      '/k8s/dev/api/v1/namespaces/default/pods/web-1:80/proxy/',
      '/k8s/dev/api/v1/namespaces/default/pods/http:web-1:80/proxy/',
      '/k8s/dev/api/v1/namespaces/default/services/admin%3A80/proxy/',
    ])('refuses %s with a readable Forbidden message', async (path) => {
      const res = await refused(path, proxier);
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).message).toMatch(
        /is forbidden: User "pia" cannot get resource "(services|pods)\/proxy" .*: role "proxy-but-admin" denies it with deny.kubernetes_resources entry .*name: (admin|web-1),/,
      );
    });

    it('refuses, as a bad request, a name no object can have (it would only feed the role matchers)', async () => {
      const res = await refused(`/k8s/dev/api/v1/namespaces/default/services/${'a'.repeat(300)}:80/proxy/`, proxier);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).message).toMatch(/is 303 characters long; a Kubernetes object name has at most 253/);
    });

    it('answers kubectl auth can-i get services/admin:80 --subresource=proxy "no" itself', async () => {
      const ask = async (name: string) => {
        const res = await h.request('/k8s/dev/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          credentials: proxier,
          method: 'POST',
          body: JSON.stringify({
            kind: 'SelfSubjectAccessReview',
            apiVersion: 'authorization.k8s.io/v1',
            spec: { resourceAttributes: { verb: 'get', resource: 'services', subresource: 'proxy', namespace: 'default', name } },
          }),
          headers: [['Content-Type', 'application/json']],
        });
        return JSON.parse(res.body).status;
      };
      const before = upstreamCount();
      for (const name of ['admin:80', 'https:admin:', 'http:admin:8080']) {
        const status = await ask(name);
        expect(status.allowed, name).toBe(false);
        expect(status.reason).toContain(`proxy services "admin" (asked as "${name}")`);
      }
      expect(upstreamCount()).toBe(before);
    });
  });

  describe('kubectl --as and --as-group', () => {
    beforeAll(() => {
      h.roles.set(
        'two-users',
        roleFromYaml(`
kind: role
version: v8
metadata: {name: two-users}
spec:
  allow:
    kubernetes_labels: {'*': '*'}
    kubernetes_users: [viewer, deployer]
    kubernetes_groups: [devs]
`),
      );
    });

    it('asks to pick a user when the roles allow several, and serves the one picked', async () => {
      const two = await h.issue({ username: 'tess', roles: ['two-users'] });
      const unpicked = await refused(DEFAULT_PODS, two);
      expect(unpicked.status).toBe(403);
      expect(JSON.parse(unpicked.body).message).toBe(
        'please select a user to impersonate with kubectl --as; your roles allow: deployer, viewer',
      );
      const picked = await h.request(DEFAULT_PODS, { credentials: two, headers: [['Impersonate-User', 'deployer']] });
      expect(picked.status).toBe(200);
      expect(h.kube.requests.at(-1)!.effective).toMatchObject({ username: 'deployer', groups: ['devs', 'system:authenticated'] });
    });

    it.each([
      [[['Impersonate-User', 'system:admin']], 'do not allow kubectl --as system:admin (allowed: deployer, viewer)'],
      [[['Impersonate-User', 'system:serviceaccount:kube-system:default']], 'do not allow kubectl --as system:serviceaccount'],
      [
        [
          ['Impersonate-User', 'viewer'],
          ['Impersonate-Group', 'system:masters'],
        ],
        'do not allow kubectl --as-group system:masters (allowed: devs, system:authenticated)',
      ],
      [
        [
          ['Impersonate-User', 'viewer'],
          ['Impersonate-User', 'deployer'],
        ],
        'only one Impersonate-User header is allowed',
      ],
      [
        [
          ['Impersonate-User', 'viewer'],
          ['Impersonate-Uid', '0'],
        ],
        'unsupported impersonation header',
      ],
      [
        [
          ['Impersonate-User', 'viewer'],
          ['Impersonate-Extra-Scopes', 'admin'],
        ],
        'unsupported impersonation header',
      ],
    ] as [[string, string][], string][])('refuses %j', async (headers, message) => {
      const two = await h.issue({ username: 'tess', roles: ['two-users'] });
      const before = upstreamCount();
      const res = await h.request(DEFAULT_PODS, { credentials: two, headers });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).message).toContain(message);
      expect(upstreamCount()).toBe(before);
    });

    it('refuses an exec upgrade that asks for a user outside the roles', async () => {
      const two = await h.issue({ username: 'tess', roles: ['two-users'] });
      const before = upstreamCount();
      const exec = `${DEFAULT_PODS}/web-0/exec?command=sh&stdout=true`;
      expect(await h.raw(rawUpgrade(exec, 'Impersonate-User: system:admin\r\n'), two)).toMatch(/^HTTP\/1\.1 403 /);
      expect(await h.raw(rawUpgrade(exec), two)).toMatch(/^HTTP\/1\.1 403 [^]*please select a user/);
      expect(upstreamCount()).toBe(before);
      expect(await upgradeAnswer(exec, two, 'Impersonate-User: viewer\r\n')).toMatch(/^HTTP\/1\.1 101 /);
      expect(headerValues(h.kube.requests.at(-1)!, 'impersonate-user')).toEqual(['viewer']);
    });
  });

  it('ends an open proxied stream once a role change stops allowing it', async () => {
    const grant = (deny: string) =>
      roleFromYaml(`
kind: role
version: v8
metadata: {name: web-proxy}
spec:
  allow:
    kubernetes_labels: {'*': '*'}
    kubernetes_groups: [devs]
    kubernetes_resources:
      - {kind: services, api_group: '', namespace: default, name: '*', verbs: [proxy]}
  deny:
    kubernetes_resources: ${deny}
`);
    h.roles.set('web-proxy', grant('[]'));
    const lena = await h.issue({ username: 'lena', roles: ['web-proxy'] });
    const stream = h.open(`GET /k8s/dev/api/v1/namespaces/default/services/web/proxy HTTP/1.1\r\nHost: localhost\r\n\r\n`, lena);
    try {
      await expect.poll(() => stream.received(), { timeout: 3_000 }).toContain('proxied line');
      h.roles.set('web-proxy', grant("[{kind: services, api_group: '', namespace: default, name: web, verbs: [proxy]}]"));
      await stream.closed;
      const scope = h.finished.find((s) => s.identity?.username === 'lena');
      expect(scope?.outcome).toMatchObject({ status: 200, ended: 'no longer authorized' });
    } finally {
      stream.socket.destroy();
    }
  });
});
