import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseResource } from '../../lib/core/resources.js';
import type { Role } from '../../lib/core/resources.js';

const fixture = (file: string): unknown => parse(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8'));

/** A role document with one allow side, so each case states only what it is about. */
function roleWith(spec: Record<string, unknown>, version: string | undefined = 'v8'): unknown {
  return { kind: 'role', ...(version ? { version } : {}), metadata: { name: 'r' }, spec };
}
const pods = (entry: Record<string, unknown>) => ({
  allow: {
    kubernetes_labels: { '*': '*' },
    kubernetes_resources: [{ kind: 'pods', api_group: '', namespace: '*', name: '*', verbs: ['get'], ...entry }],
  },
});

describe('Teleport role examples', () => {
  it.each(['teleport-role-v8-kube.yaml', 'teleport-role-v7-pods.yaml', 'teleport-role-access-preset.yaml'])(
    '%s loads unchanged',
    (file) => {
      const document = fixture(file);
      const parsed = parseResource(document, file);
      expect(parsed).toMatchObject({ ok: true, kind: 'role' });
      const role = (parsed as { resource: Role }).resource;
      // What the admin wrote is what is stored: no conversion or defaults written into the role.
      expect(role.spec.allow.kubernetes_resources).toEqual(
        (document as { spec: { allow: Role['spec']['allow'] } }).spec.allow.kubernetes_resources,
      );
    },
  );

  it('refuses a role asking for per-session MFA, naming the field', () => {
    expect(parseResource(fixture('teleport-role-mfa.yaml'), 'mfa.yaml')).toEqual({
      ok: false,
      message:
        'mfa.yaml: role field spec.options.require_session_mfa: field require_session_mfa is not supported by Kubeport: per-session MFA is not enforced for Kubernetes requests; remove it (or set it to false or "no" or "off")',
    });
  });
});

describe('role schema', () => {
  it.each<[string, unknown, string | null]>([
    // versions
    ['version absent means v8 (plural kinds accepted)', roleWith(pods({}), undefined), null],
    [
      'version absent means v8 (singular kind refused)',
      roleWith(pods({ kind: 'pod' }), undefined),
      'kind "pod" is invalid. Please use plural name for role version "v8"',
    ],
    ['v6 is refused', roleWith({}, 'v6'), 'role version must be v7 or v8'],
    // v8 kubernetes_resources
    [
      'v8 deployment singular with its legacy group',
      roleWith(pods({ kind: 'deployment', api_group: 'apps' })),
      'kind "deployment" is invalid. Please use plural name for role version "v8" (kind: deployments, api_group: "apps")',
    ],
    [
      'v8 singular with api_group *',
      roleWith(pods({ kind: 'secret', api_group: '*' })),
      'kind "secret" is invalid. Please use plural name',
    ],
    [
      'v8 named group required for non-core kinds',
      roleWith(pods({ kind: 'deployments', api_group: '' })),
      'api_group is required for resource "deployments" in role version "v8"',
    ],
    ['v8 kind * needs an api_group', roleWith(pods({ kind: '*', api_group: undefined })), "write api_group: '*' for every group"],
    ['v8 namespace required for pods', roleWith(pods({ namespace: undefined })), 'KubernetesResource "pods" must include Namespace'],
    [
      'v8 namespace required for deployments',
      roleWith(pods({ kind: 'deployments', api_group: 'apps', namespace: '' })),
      'KubernetesResource "deployments" must include Namespace',
    ],
    ['v8 cluster-scoped kind without namespace', roleWith(pods({ kind: 'nodes', namespace: undefined })), null],
    ['v8 CRD plural with its group', roleWith(pods({ kind: 'widgets', api_group: 'example.com' })), null],
    ['v8 kind required', roleWith(pods({ kind: undefined })), 'KubernetesResource kind is required in role version "v8"'],
    ['v8 verbs required', roleWith(pods({ verbs: undefined })), 'list the verbs this entry grants'],
    ['name required', roleWith(pods({ name: undefined })), "KubernetesResource must include Name; write name: '*'"],
    ['* with other verbs', roleWith(pods({ verbs: ['*', 'get'] })), 'KubernetesResource verb "*" cannot be used with other verbs'],
    ['unknown verb', roleWith(pods({ verbs: ['read'] })), 'KubernetesResource verb "read" is invalid or unsupported; Supported: *, get'],
    ['exec, portforward and proxy verbs', roleWith(pods({ verbs: ['exec', 'portforward', 'proxy'] })), null],
    [
      'invalid regex in name names the field',
      roleWith(pods({ name: '^web-(a$' })),
      'role field spec.allow.kubernetes_resources.0.name: "^web-(a$" is not a valid regular expression',
    ],
    [
      'invalid regex in namespace names the field',
      roleWith(pods({ namespace: '^[dev$' })),
      'spec.allow.kubernetes_resources.0.namespace: "^[dev$" is not a valid regular expression',
    ],
    ['template in namespace', roleWith(pods({ namespace: '{{external.team}}-*' })), null],
    ['invalid template in name', roleWith(pods({ name: '{{external.team' })), 'has "{{" without a closing "}}"'],
    // v7 kubernetes_resources
    ['v7 singular kinds', roleWith(pods({ kind: 'pod', api_group: undefined, verbs: undefined }), 'v7'), null],
    [
      'v7 api_group refused',
      roleWith(pods({ kind: 'pod', api_group: 'apps' }), 'v7'),
      'API Group "apps" is not supported in role version "v7". Upgrade the role version to "v8"',
    ],
    [
      'v7 plural kind refused',
      roleWith(pods({ kind: 'pods', api_group: undefined }), 'v7'),
      'KubernetesResource kind "pods" is invalid or unsupported in role version "v7"; Supported: *, pod',
    ],
    [
      'v7 namespaced kind needs a namespace',
      roleWith(pods({ kind: 'secret', api_group: undefined, namespace: undefined }), 'v7'),
      'KubernetesResource kind "secret" must include Namespace',
    ],
    ['v7 namespace kind needs none', roleWith(pods({ kind: 'namespace', api_group: undefined, namespace: undefined }), 'v7'), null],
    // labels
    ["'*' key with another value", roleWith({ allow: { kubernetes_labels: { '*': 'prod' } } }), 'selector *:prod is not supported'],
    [
      'invalid label regex',
      roleWith({ allow: { kubernetes_labels: { env: '^(prod$' } } }),
      'role field spec.allow.kubernetes_labels.env: "^(prod$" is not a valid regular expression',
    ],
    // Role regexps are RE2, as in Teleport: lookaround and backreferences are refused when written.
    [
      'lookbehind in a resource name',
      roleWith(pods({ name: '^(?<=web-)a$' })),
      'role field spec.allow.kubernetes_resources.0.name: "^(?<=web-)a$" is not a valid regular expression',
    ],
    [
      'lookahead in a namespace names the RE2 syntax',
      roleWith(pods({ namespace: '^(?!kube-).*$' })),
      'roles use RE2 syntax, which has no lookaround or backreferences',
    ],
    [
      'backreference in a label value',
      roleWith({ allow: { kubernetes_labels: { env: '^(a)\\1$' } } }),
      'role field spec.allow.kubernetes_labels.env: "^(a)\\1$" is not a valid regular expression',
    ],
    [
      'backreference in a deny label value',
      roleWith({ allow: {}, deny: { kubernetes_labels: { env: '^(a)\\1$' } } }),
      'spec.deny.kubernetes_labels.env',
    ],
    [
      'lookahead in regexp.replace',
      roleWith({ allow: { kubernetes_users: ['{{regexp.replace(external.email, "^(?=a)(.*)$", "$1")}}'] } }),
      'regexp.replace has an invalid regexp "^(?=a)(.*)$"',
    ],
    ['RE2 named groups and classes are accepted', roleWith(pods({ name: '^(?P<app>web|api)-[[:digit:]]+$' })), null],
    ['label list with a template', roleWith({ allow: { kubernetes_labels: { env: ['dev', '{{external.env}}'] } } }), null],
    // templates in principals
    [
      'unknown template namespace',
      roleWith({ allow: { kubernetes_groups: ['{{traits.team}}'] } }),
      'spec.allow.kubernetes_groups.0: "{{traits.team}}": not a template; write {{internal.<trait>}}',
    ],
    [
      'regex instead of regexp',
      roleWith({ allow: { kubernetes_groups: ['{{regex.replace(external.team, "a", "b")}}'] } }),
      'the name is regexp, not regex',
    ],
    [
      'invalid regexp in regexp.replace',
      roleWith({ allow: { kubernetes_users: ['{{regexp.replace(external.email, "(", "x")}}'] } }),
      'regexp.replace has an invalid regexp "("',
    ],
    [
      'two expressions in one value',
      roleWith({ allow: { kubernetes_users: ['{{external.a}}{{external.b}}'] } }),
      'more than one {{...}} expression',
    ],
    [
      'email.local with two arguments',
      roleWith({ allow: { kubernetes_users: ['{{email.local(external.a, external.b)}}'] } }),
      'email.local takes one argument',
    ],
    // unsupported and no-effect Teleport fields
    [
      'kubernetes_labels_expression refused',
      roleWith({ allow: { kubernetes_labels_expression: 'labels.env == "prod"' } }),
      'field kubernetes_labels_expression is not supported by Kubeport',
    ],
    ['access requests refused', roleWith({ allow: { request: { roles: ['admin'] } } }), 'field request is not supported by Kubeport'],
    [
      'review_requests refused',
      roleWith({ allow: { review_requests: { roles: ['admin'] } } }),
      'field review_requests is not supported by Kubeport',
    ],
    [
      'rule where refused',
      roleWith({ allow: { rules: [{ resources: ['role'], verbs: ['list'], where: 'contains(user.spec.traits["groups"], "prod")' }] } }),
      'field where is not supported by Kubeport',
    ],
    [
      'client_idle_timeout refused',
      roleWith({ options: { client_idle_timeout: '15m' } }),
      'field client_idle_timeout is not supported by Kubeport',
    ],
    [
      'disconnect_expired_cert: true refused',
      roleWith({ options: { disconnect_expired_cert: true } }),
      'field disconnect_expired_cert is not supported',
    ],
    ['require_session_mfa: no loads', roleWith({ options: { require_session_mfa: 'no' } }), null],
    [
      'record_session strict refused',
      roleWith({ options: { record_session: { default: 'strict' } } }),
      'field record_session.default is not supported by Kubeport',
    ],
    [
      'role expiry refused',
      { kind: 'role', metadata: { name: 'r', expires: '2030-01-01T00:00:00Z' }, spec: {} },
      'field metadata.expires is not supported by Kubeport',
    ],
    ['logins and node_labels load with no effect', roleWith({ allow: { logins: ['root'], node_labels: { '*': '*' } } }), null],
    ['a mistyped field is refused', roleWith({ allow: { kubernetes_lables: { env: 'dev' } } }), 'kubernetes_lables'],
    [
      'a bad max_session_ttl',
      roleWith({ options: { max_session_ttl: 'a day' } }),
      'spec.options.max_session_ttl: write a duration like 8h or 30m',
    ],
  ])('%s', (_title, document, expected) => {
    const parsed = parseResource(document, 'role.yaml');
    if (expected === null) expect(parsed).toMatchObject({ ok: true });
    else expect(parsed).toMatchObject({ ok: false, message: expect.stringContaining(expected) });
  });
});
