import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ruleDenial, rulesAllow } from '../../lib/core/admin-rules.js';
import { editorRole } from '../../lib/core/builtin-roles.js';
import type { Traits } from '../../lib/core/identity.js';
import { type ClusterView, checkSessionTtl, clusterAllowed, sessionTtl } from '../../lib/core/kube-access.js';
import type { KubeRequestInfo } from '../../lib/core/kube-request-info.js';
import { checkKubeResourceAccess } from '../../lib/core/kube-resource-access.js';
import { type Role, parseResource } from '../../lib/core/resources.js';
import { expandTemplates } from '../../lib/core/trait-templates.js';

const HOUR = 3_600_000;

/** Roles go through the schema, as stored roles do, so every case is also a valid role. */
function role(name: string, spec: Record<string, unknown>, version = 'v8'): Role {
  const parsed = parseResource({ kind: 'role', version, metadata: { name }, spec }, name);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.resource as Role;
}
const fixtureRole = (file: string): Role => {
  const parsed = parseResource(parse(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8')), file);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.resource as Role;
};
const everyCluster = { '*': '*' };
const entry = (kind: string, api_group: string, namespace: string | undefined, name: string, verbs: string[]) =>
  namespace === undefined ? { kind, api_group, name, verbs } : { kind, api_group, namespace, name, verbs };

interface Ask {
  group?: string;
  ns?: string;
  name?: string;
  sub?: string;
}
function request(verb: string, resource: string, ask: Ask = {}): KubeRequestInfo {
  const group = ask.group ?? '';
  return {
    isResourceRequest: true,
    verb,
    apiPrefix: group === '' ? 'api' : 'apis',
    apiGroup: group,
    apiVersion: 'v1',
    namespace: ask.ns ?? '',
    resource,
    subresource: ask.sub ?? '',
    name: ask.name ?? '',
    path: '/',
  };
}
const nonResource = (path: string): KubeRequestInfo => ({
  isResourceRequest: false,
  verb: 'get',
  apiPrefix: '',
  apiGroup: '',
  apiVersion: '',
  namespace: '',
  resource: '',
  subresource: '',
  name: '',
  path,
});

const dev: ClusterView = { name: 'dev-eu', labels: { env: 'dev', region: 'eu-west-1' } };
const prod: ClusterView = { name: 'prod-us', labels: { env: 'prod', region: 'us-east-1' } };

function decide(roles: Role[], ask: KubeRequestInfo, traits: Traits = {}, cluster: ClusterView = dev): string {
  try {
    checkKubeResourceAccess(roles, traits, cluster, ask);
    return 'allowed';
  } catch (error) {
    return (error as Error).message;
  }
}

// Roles used across the matrix.
const podReader = role('pod-reader', {
  allow: { kubernetes_labels: { env: 'dev' }, kubernetes_resources: [entry('pods', '', 'dev-*', '*', ['get', 'list', 'watch'])] },
});
const webExec = role('web-exec', {
  allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('pods', '', 'team-a', 'web-*', ['exec', 'portforward'])] },
});
const podProxy = role('pod-proxy', {
  allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('pods', '', '*', '*', ['proxy'])] },
});
const nodeViewer = role('node-viewer', {
  allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('nodes', '', undefined, '*', ['get', 'list'])] },
});
const clusterScopedOnly = role('cluster-scoped', {
  allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('*', '*', undefined, '*', ['get', 'list'])] },
});
const widgets = role('widgets', {
  allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('widgets', 'example.com', '*', '*', ['*'])] },
});
const gadgets = role('gadgets', {
  allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('gadgets', 'example.com', undefined, '*', ['get', 'list'])] },
});
const deployers = role('deployers', {
  allow: {
    kubernetes_labels: everyCluster,
    kubernetes_resources: [entry('deployments', 'apps', 'dev-*', '*', ['get', 'update', 'create'])],
  },
});
const anyGroup = role('any-group', {
  allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('*', '*', 'dev-a', '*', ['get'])] },
});
const namespaceObject = role('ns-object', {
  allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('namespaces', '', undefined, 'dev-*', ['get'])] },
});
const webCreator = role('web-creator', {
  allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('pods', '', 'dev-a', 'web-*', ['create', 'list'])] },
});
const v8Default = role('v8-default', { allow: { kubernetes_labels: { env: 'dev' } } });
const v7Default = role('v7-default', { allow: { kubernetes_labels: { env: 'dev' } } }, 'v7');
const noLabels = role('no-labels', { allow: { kubernetes_resources: [entry('pods', '', '*', '*', ['*'])] } });
const prodSecrets = role('prod-secrets', {
  allow: { kubernetes_labels: { env: 'prod' }, kubernetes_resources: [entry('secrets', '', '*', '*', ['*'])] },
});
const v7Pods = fixtureRole('teleport-role-v7-pods.yaml');
const v7Namespace = role(
  'v7-namespace',
  {
    allow: {
      kubernetes_labels: everyCluster,
      kubernetes_resources: [{ kind: 'namespace', name: 'development', verbs: ['get', 'list', 'watch'] }],
    },
  },
  'v7',
);
const everything = role('everything', {
  allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('*', '*', '*', '*', ['*'])] },
});
const denySecrets = role('no-secrets', {
  deny: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('secrets', '', '*', '*', ['*'])] },
});
const denyOneSecret = role('no-prod-db', {
  deny: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('secrets', '', 'prod', 'prod-db', ['*'])] },
});
const denyInProdOnly = role('no-secrets-in-prod', {
  deny: { kubernetes_labels: { env: 'prod' }, kubernetes_resources: [entry('secrets', '', '*', '*', ['*'])] },
});
const denyEverywhere = role('no-secrets-anywhere', {
  deny: { kubernetes_resources: [entry('secrets', '', '*', '*', ['*'])] },
});
const denyExec = role('no-exec', {
  deny: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('pods', '', '*', '*', ['exec'])] },
});
const denyNodes = role('no-nodes', {
  deny: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('nodes', '', undefined, '*', ['delete'])] },
});
const denyProdNamespace = role('no-prod', {
  deny: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('*', '*', 'prod', '*', ['*'])] },
});
const denyDevCluster = role('no-dev', { deny: { kubernetes_labels: { env: 'dev' } } });
const teamNamespace = role('team-ns', {
  allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('pods', '', '{{external.team}}', '*', ['get'])] },
});
const teamClusters = role('team-clusters', { allow: { kubernetes_labels: { team: '{{external.team}}' } } });

const ALLOWED = 'allowed';

describe('kubernetes resource decisions', () => {
  it.each<[string, Role[], KubeRequestInfo, string, Traits?, ClusterView?]>([
    // v8 verb / resource matrix
    ['v8 get a pod in a matching namespace', [podReader], request('get', 'pods', { ns: 'dev-a', name: 'web-1' }), ALLOWED],
    [
      'v8 get a pod in another namespace',
      [podReader],
      request('get', 'pods', { ns: 'prod', name: 'web-1' }),
      'access to get pods "web-1" in namespace "prod" denied: no allow.kubernetes_resources entry of your roles (pod-reader)',
    ],
    ['v8 list pods in a matching namespace', [podReader], request('list', 'pods', { ns: 'dev-a' }), ALLOWED],
    ['v8 watch pods in a matching namespace', [podReader], request('watch', 'pods', { ns: 'dev-b' }), ALLOWED],
    [
      'v8 list pods across all namespaces needs namespace *',
      [podReader],
      request('list', 'pods'),
      "a request across all namespaces needs namespace '*'",
    ],
    ['v8 a verb the entry lacks', [podReader], request('delete', 'pods', { ns: 'dev-a', name: 'web-1' }), 'access to delete pods "web-1"'],
    [
      'v8 exec needs the exec verb',
      [podReader],
      request('create', 'pods', { ns: 'dev-a', name: 'web-1', sub: 'exec' }),
      'access to exec pods "web-1" in namespace "dev-a" denied',
    ],
    ['v8 pods/log is a get', [podReader], request('get', 'pods', { ns: 'dev-a', name: 'web-1', sub: 'log' }), ALLOWED],
    ['v8 exec allowed by name glob', [webExec], request('create', 'pods', { ns: 'team-a', name: 'web-1', sub: 'exec' }), ALLOWED],
    ['v8 attach counts as exec', [webExec], request('create', 'pods', { ns: 'team-a', name: 'web-1', sub: 'attach' }), ALLOWED],
    ['v8 portforward', [webExec], request('create', 'pods', { ns: 'team-a', name: 'web-2', sub: 'portforward' }), ALLOWED],
    [
      'v8 exec outside the name glob',
      [webExec],
      request('create', 'pods', { ns: 'team-a', name: 'db-1', sub: 'exec' }),
      'access to exec pods "db-1"',
    ],
    ['v8 exec grants no get', [webExec], request('get', 'pods', { ns: 'team-a', name: 'web-1' }), 'access to get pods "web-1"'],
    [
      'v8 pods/proxy needs proxy',
      [podReader],
      request('get', 'pods', { ns: 'dev-a', name: 'web-1', sub: 'proxy' }),
      'access to proxy pods "web-1"',
    ],
    ['v8 pods/proxy with proxy', [podProxy], request('get', 'pods', { ns: 'dev-a', name: 'web-1', sub: 'proxy' }), ALLOWED],
    ['v8 proxy grants no get', [podProxy], request('get', 'pods', { ns: 'dev-a', name: 'web-1' }), 'access to get pods "web-1"'],
    ['v8 get a node (cluster-scoped)', [nodeViewer], request('get', 'nodes', { name: 'node-1' }), ALLOWED],
    ['v8 list nodes', [nodeViewer], request('list', 'nodes'), ALLOWED],
    ['v8 delete a node', [nodeViewer], request('delete', 'nodes', { name: 'node-1' }), 'access to delete nodes "node-1" denied'],
    ['v8 pods grant no nodes', [podReader], request('get', 'nodes', { name: 'node-1' }), 'access to get nodes "node-1" denied'],
    [
      "v8 namespace '' covers cluster-scoped kinds",
      [clusterScopedOnly],
      request('get', 'clusterroles', { group: 'rbac.authorization.k8s.io', name: 'admin' }),
      ALLOWED,
    ],
    [
      "v8 namespace '' covers CRDs",
      [clusterScopedOnly],
      request('list', 'customresourcedefinitions', { group: 'apiextensions.k8s.io' }),
      ALLOWED,
    ],
    [
      "v8 namespace '' grants nothing namespaced",
      [clusterScopedOnly],
      request('get', 'pods', { ns: 'dev-a', name: 'web-1' }),
      'access to get pods "web-1"',
    ],
    [
      "v8 namespace '' grants no list across namespaces",
      [clusterScopedOnly],
      request('list', 'pods'),
      'access to list pods in all namespaces denied',
    ],
    [
      "v8 kind '*' namespace '' grants no unknown kind without namespace",
      [clusterScopedOnly],
      request('list', 'gadgets', { group: 'example.com' }),
      'access to list gadgets.example.com',
    ],
    ['v8 CRD in a namespace', [widgets], request('get', 'widgets', { group: 'example.com', ns: 'a', name: 'w' }), ALLOWED],
    ["v8 CRD across namespaces with namespace '*'", [widgets], request('list', 'widgets', { group: 'example.com' }), ALLOWED],
    [
      'v8 CRD of another group',
      [widgets],
      request('get', 'widgets', { group: 'other.io', ns: 'a', name: 'w' }),
      'access to get widgets.other.io "w"',
    ],
    ['v8 cluster-scoped CRD named exactly', [gadgets], request('get', 'gadgets', { group: 'example.com', name: 'g' }), ALLOWED],
    ['v8 deployments in apps', [deployers], request('update', 'deployments', { group: 'apps', ns: 'dev-x', name: 'api' }), ALLOWED],
    [
      'v8 deployments in another group',
      [deployers],
      request('update', 'deployments', { group: 'extensions', ns: 'dev-x', name: 'api' }),
      'access to update deployments.extensions',
    ],
    ["v8 api_group '*' matches core", [anyGroup], request('get', 'configmaps', { ns: 'dev-a', name: 'c' }), ALLOWED],
    [
      "v8 api_group '*' matches named groups",
      [anyGroup],
      request('get', 'deployments', { group: 'apps', ns: 'dev-a', name: 'd' }),
      ALLOWED,
    ],
    ['v8 namespaces means the namespace object', [namespaceObject], request('get', 'namespaces', { ns: 'dev-a', name: 'dev-a' }), ALLOWED],
    [
      'v8 namespaces grants nothing inside',
      [namespaceObject],
      request('get', 'pods', { ns: 'dev-a', name: 'web-1' }),
      'access to get pods "web-1"',
    ],
    ['v8 create without a name needs name *', [webCreator], request('create', 'pods', { ns: 'dev-a' }), "needs an entry with name '*'"],
    ['v8 list narrowed to one name', [webCreator], request('list', 'pods', { ns: 'dev-a', name: 'web-1' }), ALLOWED],
    [
      'v8 default grants everything on labelled clusters',
      [v8Default],
      request('delete', 'secrets', { ns: 'kube-system', name: 's' }),
      ALLOWED,
    ],
    [
      'v8 default applies only where labels match',
      [v8Default],
      request('get', 'pods', { ns: 'a', name: 'p' }),
      'kubernetes cluster "prod-us" is not allowed by your roles (v8-default)',
      {},
      prod,
    ],
    [
      'roles without labels grant nothing',
      [noLabels],
      request('get', 'pods', { ns: 'a', name: 'p' }),
      'kubernetes cluster "dev-eu" is not allowed by your roles (no-labels)',
    ],
    [
      'entries of roles whose labels miss the cluster do not count',
      [podReader, prodSecrets],
      request('get', 'secrets', { ns: 'dev-a', name: 's' }),
      'access to get secrets "s"',
    ],
    // v7: converted at read time
    ['v7 pod with a regex name', [v7Pods], request('get', 'pods', { ns: 'production', name: 'webapp-1' }), ALLOWED],
    [
      'v7 entries without verbs grant every verb',
      [v7Pods],
      request('create', 'pods', { ns: 'production', name: 'webapp-1', sub: 'exec' }),
      ALLOWED,
    ],
    ['v7 pod outside the regex', [v7Pods], request('get', 'pods', { ns: 'production', name: 'db-1' }), 'access to get pods "db-1"'],
    [
      'v7 pod grants no secrets',
      [v7Pods],
      request('get', 'secrets', { ns: 'production', name: 'webapp-1' }),
      'access to get secrets "webapp-1"',
    ],
    [
      'v7 deny entry refuses exec on one pod',
      [v7Pods],
      request('create', 'pods', { ns: 'production', name: 'webapp-payments', sub: 'exec' }),
      'role "pod-reader" denies it with deny.kubernetes_resources entry {kind: pod, namespace: production, name: webapp-payments, verbs: [exec]}',
    ],
    ['v7 deny on exec leaves get', [v7Pods], request('get', 'pods', { ns: 'production', name: 'webapp-payments' }), ALLOWED],
    ['v7 namespace grants what is inside', [v7Namespace], request('list', 'deployments', { group: 'apps', ns: 'development' }), ALLOWED],
    ['v7 namespace grants pods inside', [v7Namespace], request('get', 'pods', { ns: 'development', name: 'p' }), ALLOWED],
    [
      'v7 namespace grants the namespace object',
      [v7Namespace],
      request('get', 'namespaces', { ns: 'development', name: 'development' }),
      ALLOWED,
    ],
    [
      'v7 namespace keeps its verbs',
      [v7Namespace],
      request('delete', 'pods', { ns: 'development', name: 'p' }),
      'access to delete pods "p"',
    ],
    [
      'v7 namespace grants no other namespace',
      [v7Namespace],
      request('get', 'pods', { ns: 'production', name: 'p' }),
      'access to get pods "p" in namespace "production"',
    ],
    ['v7 default grants everything', [v7Default], request('get', 'nodes', { name: 'n' }), ALLOWED],
    // deny precedence
    [
      'deny wins over an allow of everything',
      [everything, denySecrets],
      request('get', 'secrets', { ns: 'a', name: 's' }),
      'access to get secrets "s" in namespace "a" denied: role "no-secrets" denies it',
    ],
    ['deny of secrets leaves pods', [everything, denySecrets], request('get', 'pods', { ns: 'a', name: 'p' }), ALLOWED],
    ['deny refuses a list it overlaps', [everything, denySecrets], request('list', 'secrets', { ns: 'a' }), 'role "no-secrets" denies it'],
    [
      'deny of one secret leaves the others',
      [everything, denyOneSecret],
      request('get', 'secrets', { ns: 'prod', name: 'api-key' }),
      ALLOWED,
    ],
    [
      'deny of one secret refuses the list of its namespace',
      [everything, denyOneSecret],
      request('list', 'secrets', { ns: 'prod' }),
      'role "no-prod-db" denies it',
    ],
    [
      'deny of one secret leaves lists of other namespaces',
      [everything, denyOneSecret],
      request('list', 'secrets', { ns: 'dev' }),
      ALLOWED,
    ],
    [
      'deny of one secret refuses lists across namespaces',
      [everything, denyOneSecret],
      request('watch', 'secrets'),
      'role "no-prod-db" denies it',
    ],
    ['deny with labels that miss the cluster', [everything, denyInProdOnly], request('get', 'secrets', { ns: 'a', name: 's' }), ALLOWED],
    [
      'deny with labels that match the cluster',
      [everything, denyInProdOnly],
      request('get', 'secrets', { ns: 'a', name: 's' }),
      'role "no-secrets-in-prod" denies it',
      {},
      prod,
    ],
    [
      'deny without labels applies on every cluster',
      [everything, denyEverywhere],
      request('get', 'secrets', { ns: 'a', name: 's' }),
      'role "no-secrets-anywhere" denies it',
    ],
    [
      'deny of exec refuses exec',
      [everything, denyExec],
      request('create', 'pods', { ns: 'a', name: 'p', sub: 'exec' }),
      'role "no-exec" denies it',
    ],
    [
      'deny of exec leaves portforward',
      [everything, denyExec],
      request('create', 'pods', { ns: 'a', name: 'p', sub: 'portforward' }),
      ALLOWED,
    ],
    ['deny of a cluster-scoped kind', [everything, denyNodes], request('delete', 'nodes', { name: 'n' }), 'role "no-nodes" denies it'],
    [
      'deny in a namespace leaves cluster-scoped kinds',
      [everything, denyProdNamespace],
      request('delete', 'nodes', { name: 'n' }),
      ALLOWED,
    ],
    [
      'deny in a namespace refuses all inside',
      [everything, denyProdNamespace],
      request('get', 'configmaps', { ns: 'prod', name: 'c' }),
      'role "no-prod" denies it',
    ],
    [
      'deny in a namespace refuses lists across namespaces',
      [everything, denyProdNamespace],
      request('list', 'configmaps'),
      'role "no-prod" denies it',
    ],
    [
      'deny of the whole cluster',
      [everything, denyDevCluster],
      request('get', 'pods', { ns: 'a', name: 'p' }),
      'kubernetes cluster "dev-eu" is denied by role "no-dev"',
    ],
    [
      'deletecollection is refused when a deny overlaps',
      [everything, denyOneSecret],
      request('deletecollection', 'secrets', { ns: 'prod' }),
      'role "no-prod-db" denies it',
    ],
    // non-resource requests
    ['discovery on an allowed cluster', [podReader], nonResource('/apis'), ALLOWED],
    [
      'discovery on a cluster no role allows',
      [podReader],
      nonResource('/version'),
      'kubernetes cluster "prod-us" is not allowed',
      {},
      prod,
    ],
    ['discovery on a denied cluster', [everything, denyDevCluster], nonResource('/api'), 'denied by role "no-dev"'],
    [
      'kubectl auth whoami on an allowed cluster',
      [podReader],
      request('create', 'selfsubjectreviews', { group: 'authentication.k8s.io' }),
      ALLOWED,
    ],
    [
      'kubectl auth can-i on an allowed cluster',
      [podReader],
      request('create', 'selfsubjectaccessreviews', { group: 'authorization.k8s.io' }),
      ALLOWED,
    ],
    [
      'self reviews grant no other verb',
      [podReader],
      request('list', 'selfsubjectaccessreviews', { group: 'authorization.k8s.io' }),
      'access to list selfsubjectaccessreviews',
    ],
    [
      'kubectl auth whoami on a cluster no role allows',
      [podReader],
      request('create', 'selfsubjectreviews', { group: 'authentication.k8s.io' }),
      'is not allowed by your roles',
      {},
      prod,
    ],
    // templates in resources and labels
    ['namespace from a trait', [teamNamespace], request('get', 'pods', { ns: 'b', name: 'p' }), ALLOWED, { team: ['a', 'b'] }],
    [
      'namespace from a trait, other namespace',
      [teamNamespace],
      request('get', 'pods', { ns: 'c', name: 'p' }),
      'access to get pods "p"',
      { team: ['a', 'b'] },
    ],
    [
      'namespace from a missing trait grants nothing',
      [teamNamespace],
      request('get', 'pods', { ns: 'a', name: 'p' }),
      'access to get pods "p"',
    ],
    [
      'cluster labels from a trait',
      [teamClusters],
      request('get', 'pods', { ns: 'a', name: 'p' }),
      ALLOWED,
      { team: ['blue'] },
      { name: 'c', labels: { team: 'blue' } },
    ],
    [
      'cluster labels from a missing trait',
      [teamClusters],
      request('get', 'pods', { ns: 'a', name: 'p' }),
      'is not allowed by your roles',
      {},
      { name: 'c', labels: { team: 'blue' } },
    ],
  ])('%s', (_title, roles, ask, expected, traits = {}, cluster = dev) => {
    const outcome = decide(roles, ask, traits, cluster);
    if (expected === ALLOWED) expect(outcome).toBe(ALLOWED);
    else expect(outcome).toContain(expected);
  });
});

describe('cluster label matching', () => {
  const allowing = (labels: Record<string, string | string[]>) => role('r', { allow: { kubernetes_labels: labels } });
  it.each<[Record<string, string | string[]>, Record<string, string>, boolean]>([
    [{ '*': '*' }, {}, true],
    [{ env: 'dev*' }, { env: 'dev-eu' }, true],
    [{ env: 'dev*' }, { env: 'prod' }, false],
    [{ region: '^eu-(west|central)-[0-9]$' }, { region: 'eu-west-1' }, true],
    [{ region: '^eu-(west|central)-[0-9]$' }, { region: 'eu-west-12' }, false],
    [{ env: ['staging', 'dev'] }, { env: 'dev' }, true],
    [{ env: 'dev', region: 'us-*' }, { env: 'dev', region: 'eu-west-1' }, false],
    [{ env: 'dev', region: 'eu-*' }, { env: 'dev', region: 'eu-west-1' }, true],
    [{ Env: 'dev' }, { env: 'dev' }, false],
    [{ env: 'd.v' }, { env: 'dev' }, false],
  ])('%j on %j is %s', (selector, labels, expected) => {
    expect(clusterAllowed([allowing(selector)], { name: 'c', labels })).toBe(expected);
  });

  it('a deny side with resources refuses those resources, not the cluster', () => {
    expect(clusterAllowed([everything, denySecrets], dev)).toBe(true);
    expect(clusterAllowed([everything, denyDevCluster], dev)).toBe(false);
  });
});

describe('trait templates', () => {
  it.each<[string[], Traits, string[]]>([
    [['{{internal.kubernetes_groups}}'], { kubernetes_groups: ['devs', 'ops'] }, ['devs', 'ops']],
    [['{{external.missing}}', 'kept'], {}, ['kept']],
    [['{{external["github_teams"]}}'], { github_teams: ['org/core'] }, ['org/core']],
    [['{{ external.team }}'], { team: ['a'] }, ['a']],
    [['IAM#{{external.email}};'], { email: ['a@x.io'] }, ['IAM#a@x.io;']],
    [['{{email.local(external.email)}}'], { email: ['alice@example.com', 'bob@x.io'] }, ['alice', 'bob']],
    [['{{email.local(external.email)}}'], { email: ['not-an-email'] }, []],
    [['{{email.local(external["email"])}}'], { email: ['Alice <alice@example.com>'] }, ['alice']],
    [['{{regexp.replace(external.github_teams, "^acme/(.*)$", "team-$1")}}'], { github_teams: ['acme/core', 'other/x'] }, ['team-core']],
    [['{{regexp.replace(internal.logins, "-admin$", "")}}'], { logins: ['bob-admin', 'carol'] }, ['bob']],
    [['{{regexp.replace(external.team, "^(?P<n>x)$", "${1}y")}}'.replace('?P<n>', '')], { team: ['x'] }, ['xy']],
    [['prefix-{{regexp.replace(external.team, "a", "b")}}'], { team: ['aa'] }, ['prefix-bb']],
    [['{{internal.kubernetes_users}}', 'alice'], { kubernetes_users: ['alice'] }, ['alice']],
    [['{{external.team'], { team: ['a'] }, []],
    [['{{external.team}}'], { team: [''] }, []],
  ])('%j with %j gives %j', (values, traits, expected) => {
    expect(expandTemplates(values, traits)).toEqual(expected);
  });
});

describe('session TTL', () => {
  const withTtl = (name: string, ttl: string | undefined, labels: Record<string, string> = everyCluster) =>
    role(name, { options: ttl === undefined ? {} : { max_session_ttl: ttl }, allow: { kubernetes_labels: labels } });
  it.each<[string, number | undefined, Role[], number]>([
    ['default 12h under a 30h role', undefined, [withTtl('a', '30h')], 12 * HOUR],
    ['capped by the role', undefined, [withTtl('a', '8h')], 8 * HOUR],
    ['shortest max_session_ttl wins', 20 * HOUR, [withTtl('a', '8h'), withTtl('b', '2h')], 2 * HOUR],
    ['never above 30h', 100 * HOUR, [withTtl('a', undefined)], 30 * HOUR],
    ['at least a minute', 10_000, [withTtl('a', '30h')], 60_000],
    ['a role without max_session_ttl does not shorten', 5 * HOUR, [withTtl('a', undefined), withTtl('b', '6h')], 5 * HOUR],
  ])('%s', (_title, asked, roles, expected) => {
    expect(sessionTtl(asked, roles)).toBe(expected);
  });

  it.each<[string, Role[], number, string | null]>([
    ['a session as long as the role allows', [withTtl('a', '8h')], 8 * HOUR, null],
    ['a session longer than every role allows', [withTtl('a', '8h')], 9 * HOUR, 'this user cannot request kubernetes access for 9h0m0s'],
    ['one role allowing long enough suffices', [withTtl('a', '1h'), withTtl('b', '10h')], 9 * HOUR, null],
    [
      'a long role that does not allow the cluster does not count',
      [withTtl('a', '1h'), withTtl('b', '10h', { env: 'prod' })],
      9 * HOUR,
      'allow at most 1h0m0s',
    ],
    ['no max_session_ttl means 30h', [withTtl('a', undefined)], 29 * HOUR, null],
  ])('%s', (_title, roles, ttl, expected) => {
    const check = () => checkSessionTtl(roles, dev, ttl);
    if (expected === null) expect(check).not.toThrow();
    else expect(check).toThrow(expected);
  });
});

describe('admin rules', () => {
  const reader = role('role-reader', { allow: { rules: [{ resources: ['role'], verbs: ['list', 'read'] }] } });
  const noUsers = role('no-users', { deny: { rules: [{ resources: ['user'], verbs: ['*'] }] } });
  it.each<[string, Role[], string, string, boolean]>([
    ['editor may do anything', [editorRole], 'user', 'create', true],
    ['a listed verb on a listed resource', [reader], 'role', 'list', true],
    ['an unlisted verb', [reader], 'role', 'create', false],
    ['an unlisted resource', [reader], 'user', 'list', false],
    ['deny wins over editor', [editorRole, noUsers], 'user', 'create', false],
    ['deny leaves other resources', [editorRole, noUsers], 'role', 'create', true],
    ['no roles allow nothing', [], 'role', 'list', false],
  ])('%s', (_title, roles, resource, verb, expected) => {
    expect(rulesAllow(roles, resource, verb)).toBe(expected);
  });

  it('names the denying role or the missing allow rule', () => {
    expect(ruleDenial([editorRole, noUsers], 'user', 'delete')).toBe(
      'role no-users denies delete on user (a deny rule matches); an admin can remove that rule from role no-users',
    );
    expect(ruleDenial([reader], 'role', 'create')).toBe(
      'your roles (role-reader) do not allow create on role; an admin can add a rule {resources: [role], verbs: [create]} to one of your roles',
    );
  });
});

describe('proxy subresources are decided on the object they reach', () => {
  // The API server proxies pods|services|nodes/[scheme:]NAME[:port]/proxy to the object NAME.
  const denyAdmin = role('deny-admin', {
    allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('*', '*', '*', '*', ['*'])] },
    deny: {
      kubernetes_resources: [
        entry('services', '', 'default', 'admin', ['*']),
        entry('pods', '', 'default', 'web-1', ['*']),
        entry('nodes', '', undefined, 'node-a', ['*']),
      ],
    },
  });
  it.each([
    ['services', 'admin:80'],
    ['services', 'https:admin:'],
    ['services', 'http:admin:8080'],
    ['services', 'admin'],
    ['pods', 'web-1:80'],
    ['pods', 'http:web-1:80'],
    ['nodes', 'node-a:10250'],
  ])('a deny on %s "%s"\'s object refuses its proxy', (resource, name) => {
    const ns = resource === 'nodes' ? undefined : 'default';
    const outcome = decide([denyAdmin], request('get', resource, { ns, name, sub: 'proxy' }));
    expect(outcome).toMatch(/^access to proxy (services|pods|nodes) "(admin|web-1|node-a)"/);
    expect(outcome).toContain('denies it with deny.kubernetes_resources entry');
    if (name.includes(':')) expect(outcome).toContain(`(asked as "${name}")`);
  });
  it('refuses the legacy /proxy/ prefix form too', () => {
    expect(decide([denyAdmin], request('proxy', 'services', { ns: 'default', name: 'admin:80' }))).toContain('denies it');
  });
  it('still proxies other objects, and an allow entry names the object, not the port', () => {
    expect(decide([denyAdmin], request('get', 'services', { ns: 'default', name: 'web:80', sub: 'proxy' }))).toBe(ALLOWED);
    const proxyWeb = role('proxy-web', {
      allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('services', '', 'default', 'web', ['proxy'])] },
    });
    expect(decide([proxyWeb], request('get', 'services', { ns: 'default', name: 'https:web:443', sub: 'proxy' }))).toBe(ALLOWED);
    expect(decide([proxyWeb], request('get', 'services', { ns: 'default', name: 'web-2:443', sub: 'proxy' }))).not.toBe(ALLOWED);
  });
  it('matches a name the API server would not split as written (it reaches no object)', () => {
    const outcome = decide([denyAdmin], request('get', 'services', { ns: 'default', name: 'ftp:admin:21', sub: 'proxy' }));
    expect(outcome).toBe(ALLOWED);
  });
});

describe('no value a user sends makes a decision slow (ReDoS)', () => {
  // On a backtracking engine each of these takes seconds to minutes; the timeout only guards
  // against a hang, the assertions are about the answers.
  const evil = role('evil', {
    allow: {
      kubernetes_labels: { env: '^([a-z0-9]+-?)+$' },
      kubernetes_resources: [
        entry('pods', '', '^([a-z0-9]+-?)+$', '^([a-z0-9]+-?)+$', ['get']),
        entry('services', '', '*', '*-*-*-*-*-x', ['get']),
      ],
    },
  });
  const long = `${'a'.repeat(10_000)}_`;

  it('matches a nested-quantifier regexp against 10,000 characters', { timeout: 2_000 }, () => {
    expect(decide([evil], request('get', 'pods', { ns: 'default', name: long }))).toContain('access to get pods');
    expect(decide([evil], request('get', 'pods', { ns: long, name: 'web-1' }))).toContain('access to get pods');
    expect(decide([evil], request('get', 'pods', { ns: 'default', name: 'web-1' }))).toBe(ALLOWED);
    expect(decide([evil], request('get', 'pods', { ns: 'a', name: 'b' }), {}, { name: 'c', labels: { env: long } })).toContain(
      'is not allowed by your roles',
    );
  });

  it('matches a many-star glob against 10,000 characters', { timeout: 2_000 }, () => {
    const dashes = `${'-'.repeat(10_000)}y`;
    expect(decide([evil], request('get', 'services', { ns: 'default', name: dashes }))).toContain('access to get services');
    expect(decide([evil], request('get', 'services', { ns: 'default', name: `${'-'.repeat(10_000)}x` }))).toBe(ALLOWED);
    expect(decide([evil], request('get', 'services', { ns: 'default', name: 'a-b-c-d-e-x' }))).toBe(ALLOWED);
    expect(decide([evil], request('get', 'services', { ns: 'default', name: 'a-b-c-d-x' }))).toContain('access to get services');
  });

  it('expands regexp.replace on a long trait value', { timeout: 2_000 }, () => {
    expect(expandTemplates(['{{regexp.replace(external.team, "^([a-z0-9]+-?)+$", "t-$1")}}'], { team: [long] })).toEqual([]);
    expect(expandTemplates(['{{regexp.replace(external.team, "^([a-z]+)-(.*)$", "${2}-$1")}}'], { team: ['web-blue'] })).toEqual([
      'blue-web',
    ]);
  });
});

describe('what a refusal tells the reader to write', () => {
  const denyAll = role('deny-all', {
    allow: { kubernetes_labels: everyCluster },
    deny: { kubernetes_resources: [entry('*', '*', '*', '*', ['*'])] },
  });
  const devNamespaces = role('dev-namespaces', {
    allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('pods', '', 'dev-*', '*', ['list'])] },
  });
  const webPods = role('web-pods', {
    allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('pods', '', '*', 'web-*', ['list'])] },
  });
  const LIST_HINT = 'Kubeport does not filter lists';
  /** The {…} after `marker` in a message, read back as YAML. */
  const yamlAfter = (message: string, marker: string): unknown => {
    const start = message.indexOf('{', message.indexOf(marker));
    return parse(message.slice(start, message.indexOf('}', start) + 1));
  };

  it('gives the list hint only when an entry would cover the list but for its name', () => {
    const wrongNamespace = decide([devNamespaces], request('list', 'pods', { ns: 'prod' }));
    expect(wrongNamespace).toContain('access to list pods in namespace "prod" denied');
    expect(wrongNamespace).not.toContain(LIST_HINT);
    const acrossNamespaces = decide([devNamespaces], request('list', 'pods'));
    expect(acrossNamespaces).toContain("a request across all namespaces needs namespace '*'");
    expect(acrossNamespaces).not.toContain(LIST_HINT);
    expect(decide([webPods], request('list', 'pods', { ns: 'prod' }))).toContain(`${LIST_HINT}, so a list needs an entry with name '*'`);
  });

  it('prints deny entries as YAML that reads back as the entry', () => {
    const message = decide([denyAll], request('get', 'pods', { ns: 'default', name: 'web-1' }));
    expect(message).toContain(`entry {kind: '*', api_group: "*", namespace: '*', name: '*', verbs: ['*']}`);
    expect(yamlAfter(message, 'entry')).toEqual(entry('*', '*', '*', '*', ['*']));
  });

  it('quotes YAML-special values in deny entries and in the suggested allow entry', () => {
    const denied = role('deny-yes', {
      allow: { kubernetes_labels: everyCluster, kubernetes_resources: [entry('*', '*', '*', '*', ['*'])] },
      deny: { kubernetes_resources: [entry('configmaps', '', 'yes', 'web-*', ['get'])] },
    });
    const message = decide([denied], request('get', 'configmaps', { ns: 'yes', name: 'web-1' }));
    expect(yamlAfter(message, 'entry')).toEqual(entry('configmaps', '', 'yes', 'web-*', ['get']));
    const refused = decide([devNamespaces], request('get', 'configmaps', { ns: 'on', name: 'null' }));
    expect(yamlAfter(refused, 'such as')).toEqual({ kind: 'configmaps', api_group: '', namespace: 'on', name: 'null', verbs: ['get'] });
  });
});
