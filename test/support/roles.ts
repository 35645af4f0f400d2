// Roles as people write them (YAML), validated by the same schema tctl create uses, for tests
// that load them into the agent harness.
import { parse } from 'yaml';
import { type Role, parseResource } from '../../lib/core/resources.js';

export function roleFromYaml(text: string): Role {
  const parsed = parseResource(parse(text), 'test role');
  if (!parsed.ok) throw new Error(parsed.message);
  if (parsed.kind !== 'role') throw new Error(`test role: kind is ${parsed.kind}, not role`);
  return parsed.resource as Role;
}

/**
 * A role for every pod of namespace default on every cluster, as group devs; `options` is the
 * role's spec.options in YAML flow style (e.g. `{record_session: {kubernetes_input: true}}`).
 */
export function podUserRole(name = 'pod-user', options?: string): Role {
  return roleFromYaml(`
kind: role
version: v8
metadata: {name: ${name}}
spec:
  ${options ? `options: ${options}` : ''}
  allow:
    kubernetes_labels: {'*': '*'}
    kubernetes_groups: [devs]
    kubernetes_resources:
      - {kind: pods, api_group: '', namespace: default, name: '*', verbs: ['*']}
`);
}
