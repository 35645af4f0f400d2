// The real kubectl through the real agent to the Kubernetes API stand-in, for people whose roles
// narrow namespaces, kinds and verbs: what they may do works, the rest is refused with a message
// that names the rule, and `kubectl auth whoami` shows the user and groups the cluster sees.
// Each person's kubeconfig carries a certificate from the agent's user CA (tsh's part is tested
// elsewhere), so every kubectl run here is kubectl alone.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, startAgentHarness } from '../support/agent-harness.js';
import { type KubectlUser, kubectlUser } from '../support/agent-kubeconfig.js';
import { roleFromYaml } from '../support/roles.js';

const role = (name: string, allow: string, deny = '{}') =>
  roleFromYaml(`
kind: role
version: v8
metadata: {name: ${name}}
spec:
  allow: ${allow}
  deny: ${deny}
`);

describe('kubectl under roles that narrow namespaces, kinds and verbs', () => {
  let h: AgentHarness;
  let dir: string;
  /** kubectl as `user` with `roles`, on cluster dev unless another is named. */
  let kubectlAs: (user: string, roles: string[]) => Promise<(...args: string[]) => ReturnType<KubectlUser['kubectl']>>;

  beforeAll(async () => {
    h = await startAgentHarness({ kube: { namespaces: ['default', 'kube-system'] } });
    dir = mkdtempSync(join(tmpdir(), 'kubeport-kubectl-roles-'));
    h.roles.set(
      'pod-reader',
      role(
        'pod-reader',
        `{kubernetes_labels: {env: dev}, kubernetes_groups: [devs], kubernetes_resources: [{kind: pods, api_group: '', namespace: default, name: '*', verbs: [get, list]}]}`,
      ),
    );
    h.roles.set(
      'pod-exec',
      role(
        'pod-exec',
        `{kubernetes_labels: {env: dev}, kubernetes_groups: [devs], kubernetes_resources: [{kind: pods, api_group: '', namespace: default, name: 'web-*', verbs: [exec]}]}`,
      ),
    );
    h.roles.set(
      'no-secrets',
      role(
        'no-secrets',
        `{kubernetes_labels: {'*': '*'}, kubernetes_groups: [devs, auditors], kubernetes_resources: [{kind: '*', api_group: '*', namespace: '*', name: '*', verbs: ['*']}]}`,
        `{kubernetes_resources: [{kind: secrets, api_group: '', namespace: '*', name: '*', verbs: ['*']}]}`,
      ),
    );
    h.roles.set(
      'two-users',
      role('two-users', `{kubernetes_labels: {'*': '*'}, kubernetes_users: [viewer, deployer], kubernetes_groups: [devs]}`),
    );

    kubectlAs = async (user, roles) => {
      const credentials = await h.issue({ username: user, roles });
      const { kubectl } = kubectlUser(h, join(dir, `${user}-${roles.join('+')}`), user, credentials);
      return (...args: string[]) => kubectl(args);
    };
  });
  afterAll(() => h?.close());

  it('pods in default, get and list only: get works, another namespace and delete are refused', async () => {
    const kubectl = await kubectlAs('rita', ['pod-reader']);
    const pods = await kubectl('get', 'pods', '-n', 'default');
    expect(pods.stderr).toBe('');
    expect(pods.stdout).toMatch(/web-0\s+1\/1\s+Running/);

    const before = h.kube.requests.length;
    const kubeSystem = await kubectl('get', 'pods', '-n', 'kube-system');
    expect(kubeSystem.code).toBe(1);
    expect(kubeSystem.stderr).toBe(
      'Error from server (Forbidden): pods is forbidden: User "rita" cannot list resource "pods" in API group "" in the namespace "kube-system": ' +
        `no allow.kubernetes_resources entry of your roles (pod-reader) on cluster "dev" covers it; ask an admin for a role entry such as {kind: pods, api_group: "", namespace: kube-system, name: '*', verbs: [list]} (role v8)\n`,
    );
    const deleted = await kubectl('delete', 'pod', 'web-0', '-n', 'default');
    expect(deleted.code).toBe(1);
    expect(deleted.stderr).toMatch(
      /^Error from server \(Forbidden\): pods "web-0" is forbidden: User "rita" cannot delete resource "pods" in API group "" in the namespace "default": .*pod-reader/,
    );
    // Discovery reached the cluster; neither refused request did.
    const reached = h.kube.requests.slice(before).map((r) => `${r.method} ${r.path.split('?')[0]}`);
    expect(reached.filter((r) => r.includes('/pods'))).toEqual([]);

    // auth can-i answers for the roles (the agent's "no"), then for the cluster's RBAC.
    const canI = await kubectl('auth', 'can-i', 'delete', 'pods', '-n', 'default');
    expect(canI.code).toBe(1);
    expect(canI.stdout).toMatch(/^no - access to delete pods in namespace "default" denied: .*pod-reader/);
    expect((await kubectl('auth', 'can-i', 'get', 'pods', '-n', 'default')).stdout).toBe('yes\n');
    // The self-reviews stay open to a narrowed role: the user can see whom the cluster sees.
    const whoami = await kubectl('auth', 'whoami');
    expect(whoami.stderr).toBe('');
    expect(whoami.stdout).toMatch(/Username\s+rita\n[^]*Groups\s+\[devs system:authenticated\]\n/);

    const prod = await kubectl('--context=prod', 'get', 'pods', '-n', 'default');
    expect(prod.code).toBe(1);
    // A cluster the roles do not allow is answered as one that does not exist: nothing of its
    // labels, word for word what a typo gets (discovery's 404 shows as kubectl's own sentence).
    const lastLine = (stderr: string) => stderr.trimEnd().split('\n').at(-1);
    expect(lastLine(prod.stderr)).toBe('Error from server (NotFound): the server could not find the requested resource');
    expect(prod.stderr).not.toContain('env');
    const typoServer = `--server=https://127.0.0.1:${h.port}/k8s/prdo`;
    const typo = await kubectl('--context=prod', typoServer, 'get', 'pods', '-n', 'default');
    expect(lastLine(typo.stderr)).toBe(lastLine(prod.stderr));
    // --raw takes the whole path (the kubeconfig's /k8s/<cluster> is not prefixed): a plain request gets the Status's words.
    const raw = await kubectl('--context=prod', 'get', '--raw', '/k8s/prod/api/v1/namespaces/default/pods');
    expect(raw.code).toBe(1);
    expect(raw.stderr).toBe(
      'Error from server (NotFound): kubernetes cluster "prod" not found; tsh kube ls lists the clusters you may reach\n',
    );
    const rawTypo = await kubectl('--context=prod', 'get', '--raw', '/k8s/prdo/api/v1/namespaces/default/pods');
    expect(rawTypo.stderr.replace('"prdo"', '"prod"')).toBe(raw.stderr);
  });

  it('kubectl exec is refused unless a role grants the exec verb', async () => {
    const reader = await kubectlAs('rita', ['pod-reader']);
    const refused = await reader('exec', 'web-0', '-n', 'default', '--', 'echo', 'hi');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /Error from server \(Forbidden\): pods "web-0" is forbidden: User "rita" cannot create resource "pods\/exec" in API group "" in the namespace "default": .*verbs: \[exec\]/,
    );
    const execer = await kubectlAs('rita', ['pod-reader', 'pod-exec']);
    const allowed = await execer('exec', 'web-0', '-n', 'default', '--', 'echo', 'hi');
    expect(allowed.stderr).toBe('');
    expect(allowed.stdout).toBe('hi\n');
  });

  it('a deny on secrets wins over allow everything; auth whoami shows the groups the cluster sees', async () => {
    const kubectl = await kubectlAs('otto', ['no-secrets']);
    const secrets = await kubectl('get', 'secrets', '-n', 'default');
    expect(secrets.code).toBe(1);
    expect(secrets.stderr).toContain(
      'Error from server (Forbidden): secrets is forbidden: User "otto" cannot list resource "secrets" in API group "" in the namespace "default": role "no-secrets" denies it with deny.kubernetes_resources entry',
    );
    const whoami = await kubectl('auth', 'whoami');
    expect(whoami.stderr).toBe('');
    expect(whoami.stdout).toMatch(/Username\s+otto\n/);
    expect(whoami.stdout).toMatch(/Groups\s+\[auditors devs system:authenticated\]\n/);
  });

  it('--as only within the allowed users; several allowed users without --as are told how to pick one', async () => {
    const kubectl = await kubectlAs('tess', ['two-users']);
    // (kubectl auth whoami would replace any 403 with its own "not enabled or no permission" line.)
    const unpicked = await kubectl('get', 'pods', '-n', 'default');
    expect(unpicked.code).toBe(1);
    expect(unpicked.stderr).toContain('please select a user to impersonate with kubectl --as; your roles allow: deployer, viewer');
    const outside = await kubectl('get', 'pods', '-n', 'default', '--as=system:admin');
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain(
      'Error from server (Forbidden): impersonation request has been denied: your roles do not allow kubectl --as system:admin (allowed: deployer, viewer)',
    );
    const picked = await kubectl('auth', 'whoami', '--as=deployer', '--as-group=devs');
    expect(picked.stderr).toBe('');
    expect(picked.stdout).toMatch(/Username\s+deployer\n/);
    expect(picked.stdout).toMatch(/Groups\s+\[devs system:authenticated\]\n/);
  });
});
