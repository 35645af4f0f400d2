// What tctl may do: a role's `rules` (resources × verbs), as Teleport's. Deny wins over allow;
// '*' matches every resource or verb.
import type { Role } from './resources.js';

interface Rule {
  resources: string[];
  verbs: string[];
}

const matches = (rule: Rule, resource: string, verb: string) =>
  (rule.resources.includes('*') || rule.resources.includes(resource)) && (rule.verbs.includes('*') || rule.verbs.includes(verb));

const denyingRole = (roles: Role[], resource: string, verb: string) =>
  roles.find((role) => (role.spec.deny.rules ?? []).some((rule) => matches(rule, resource, verb)));

export function rulesAllow(roles: Role[], resource: string, verb: string): boolean {
  if (denyingRole(roles, resource, verb)) return false;
  return roles.some((role) => (role.spec.allow.rules ?? []).some((rule) => matches(rule, resource, verb)));
}

/** Why `verb` on `resource` is refused, naming the rule that is missing or the role that denies it. */
export function ruleDenial(roles: Role[], resource: string, verb: string): string {
  const denying = denyingRole(roles, resource, verb);
  if (denying) {
    return `role ${denying.metadata.name} denies ${verb} on ${resource} (a deny rule matches); an admin can remove that rule from role ${denying.metadata.name}`;
  }
  const names = roles.map((role) => role.metadata.name);
  const fix = `an admin can add a rule {resources: [${resource}], verbs: [${verb}]} to one of your roles`;
  if (names.length === 0) return `none of your roles exists any more, so nothing allows ${verb} on ${resource}; ${fix}`;
  return `your roles (${names.join(', ')}) do not allow ${verb} on ${resource}; ${fix}`;
}
