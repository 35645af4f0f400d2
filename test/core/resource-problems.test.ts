// What tctl create says about each kind of bad document: every problem, its field and its fix.
import { describe, expect, it } from 'vitest';
import { editDistance, nearestName } from '../../lib/core/nearest-name.js';
import { checkDocument, describeProblem } from '../../lib/core/resource-problems.js';
import { resolveKind, unknownKindMessage } from '../../lib/core/resource-kinds.js';
import { roleReferences } from '../../lib/core/role-references.js';
import { roleSchema } from '../../lib/core/resources.js';
import { fieldsAt } from '../../lib/core/schema-fields.js';

const role = (spec: unknown, extra: Record<string, unknown> = {}) => ({
  kind: 'role',
  version: 'v7',
  metadata: { name: 'devs' },
  spec,
  ...extra,
});
const problems = (document: unknown) => {
  const checked = checkDocument(document, 1);
  return checked.ok ? [] : checked.problems.map((p) => describeProblem('f.yaml', p));
};

describe('checkDocument', () => {
  it.each<[string, unknown, string[]]>([
    [
      'a list instead of a mapping',
      ['kind', 'role'],
      ['f.yaml, document 2: a document must be a mapping with kind, version, metadata and spec'],
    ],
    [
      'no kind',
      { metadata: { name: 'x' } },
      ['f.yaml, document 2: kind: missing; add kind: with one of role, user, kube_cluster, github, lock'],
    ],
    [
      'a plural kind',
      { kind: 'roles', metadata: { name: 'x' } },
      ['f.yaml, document 2: kind: unknown kind "roles"; did you mean role? kinds are role, user, kube_cluster, github, lock'],
    ],
    [
      'a kind nothing is near',
      { kind: 'database', metadata: { name: 'x' } },
      ['f.yaml, document 2: kind: unknown kind "database"; kinds are role, user, kube_cluster, github, lock'],
    ],
    [
      'a field missing its last letter',
      role({ allow: { kubernetes_group: ['devs'] } }),
      ['f.yaml, document 2 (role "devs"): spec.allow.kubernetes_group: unknown field; did you mean kubernetes_groups?'],
    ],
    [
      'two swapped letters and a wrong case',
      role({ deny: { kubernetes_lables: {}, Kubernetes_Users: [] } }),
      [
        'f.yaml, document 2 (role "devs"): spec.deny.kubernetes_lables: unknown field; did you mean kubernetes_labels?',
        'f.yaml, document 2 (role "devs"): spec.deny.Kubernetes_Users: unknown field; did you mean kubernetes_users?',
      ],
    ],
    [
      'a field nothing is near',
      role({ allow: {}, colour: 'blue' }),
      ['f.yaml, document 2 (role "devs"): spec.colour: unknown field; fields allowed here: options, allow, deny'],
    ],
    [
      'every problem of one document, not only the first',
      role({ options: { max_session_ttl: 'soon' }, allow: { kubernetes_groups: 'devs', rulez: [] } }, { metdata: {} }),
      [
        'f.yaml, document 2 (role "devs"): spec.options.max_session_ttl: write a duration like 8h or 30m',
        'f.yaml, document 2 (role "devs"): spec.allow.kubernetes_groups: expected a list, got the string "devs"; write a list, e.g. [devs]',
        'f.yaml, document 2 (role "devs"): spec.allow.rulez: unknown field; did you mean rules?',
        'f.yaml, document 2 (role "devs"): metdata: unknown field; metadata is already set, so remove this one',
      ],
    ],
    [
      'a version that does not exist',
      role({}, { version: 'v77' }),
      ['f.yaml, document 2 (role "devs"): version: "v77" is not allowed; did you mean v7? use v7 or v8'],
    ],
    [
      'a missing required field',
      { kind: 'user', metadata: { name: 'bob' }, spec: {} },
      ['f.yaml, document 2 (user "bob"): spec.roles: missing; add a list'],
    ],
    [
      'a label value of the wrong shape',
      role({ allow: { kubernetes_labels: { env: 3 } } }),
      ['f.yaml, document 2 (role "devs"): spec.allow.kubernetes_labels.env: expected a string or a list, got number 3'],
    ],
    [
      'a field inside a list entry',
      role({ allow: { rules: [{ resources: ['role'], verb: ['list'] }] } }),
      [
        'f.yaml, document 2 (role "devs"): spec.allow.rules[0].verbs: missing; add a list',
        'f.yaml, document 2 (role "devs"): spec.allow.rules[0].verb: unknown field; did you mean verbs?',
      ],
    ],
  ])('%s', (_name, document, expected) => {
    expect(problems(document)).toEqual(expected);
  });

  it('accepts a valid document and gives its kind and name', () => {
    expect(checkDocument(role({ allow: { kubernetes_groups: ['devs'] } }), 0)).toMatchObject({ ok: true, kind: 'role', name: 'devs' });
  });
});

describe('suggestions', () => {
  it('measures edits, swaps counting once', () => {
    expect(editDistance('kubernetes_group', 'kubernetes_groups')).toBe(1);
    expect(editDistance('lables', 'labels')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('suggests only what is near enough', () => {
    expect(nearestName('acess', ['access', 'editor'])).toBe('access');
    expect(nearestName('kube-cluster', ['role', 'kube_cluster'])).toBe('kube_cluster');
    expect(nearestName('xyz', ['access', 'editor'])).toBeUndefined();
  });
  it('reads the fields a place allows from the schema', () => {
    // where and actions are Teleport's: known, so a typo finds them, and refused with a reason.
    expect(fieldsAt(roleSchema, ['spec', 'allow', 'rules', 0])).toEqual(['resources', 'verbs', 'where', 'actions']);
    expect(fieldsAt(roleSchema, ['spec', 'nowhere'])).toEqual([]);
  });
  it("resolves tctl's kind aliases and names the kind meant", () => {
    expect(['roles', 'ROLE', 'users', 'kube_clusters'].map(resolveKind)).toEqual(
      ['role', 'role', 'user', 'user', 'kube_cluster'].filter((_, i) => i !== 3),
    );
    expect(resolveKind('nodes')).toBeUndefined();
    expect(['connector', 'connectors', 'GitHub'].map(resolveKind)).toEqual(['github', 'github', 'github']);
    expect(unknownKindMessage('rolse')).toBe('unknown kind "rolse"; did you mean role? kinds are role, user, kube_cluster, github, lock');
  });
  it('finds the literal role names a resource names, skipping globs and templates', () => {
    expect(
      roleReferences('role', role({ allow: { request: { roles: ['dev', 'ops-*', '^adm.*$'] } }, deny: { impersonate: { roles: ['x'] } } })),
    ).toEqual([
      { path: ['spec', 'allow', 'request', 'roles', 0], role: 'dev' },
      { path: ['spec', 'deny', 'impersonate', 'roles', 0], role: 'x' },
    ]);
    expect(roleReferences('github', { spec: { teams_to_roles: [{ roles: ['a'] }], teams_to_logins: [{ logins: ['b'] }] } })).toEqual([
      { path: ['spec', 'teams_to_roles', 0, 'roles', 0], role: 'a' },
      { path: ['spec', 'teams_to_logins', 0, 'logins', 0], role: 'b' },
    ]);
  });
});
