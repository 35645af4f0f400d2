// Admin rules (allow/deny `rules: [{resources, verbs}]`): what tctl may do. Deny wins; '*'
// matches every resource or verb, as in Teleport.
import type { Role } from './role-schema.js';

type Rule = { resources: string[]; verbs: string[] };

function ruleMatches(rule: Rule, resource: string, verb: string): boolean {
  return (rule.resources.includes('*') || rule.resources.includes(resource)) && (rule.verbs.includes('*') || rule.verbs.includes(verb));
}

function denyingRole(roles: Role[], resource: string, verb: string): { role: Role; rule: Rule } | undefined {
  for (const role of roles) {
    for (const rule of role.spec.deny.rules ?? []) if (ruleMatches(rule, resource, verb)) return { role, rule };
  }
  return undefined;
}

export function rulesAllow(roles: Role[], resource: string, verb: string): boolean {
  if (denyingRole(roles, resource, verb)) return false;
  return roles.some((role) => (role.spec.allow.rules ?? []).some((rule) => ruleMatches(rule, resource, verb)));
}

/** Why `verb` on `resource` is refused, naming the deny rule or the missing allow rule; '' when allowed. */
export function ruleDenial(roles: Role[], resource: string, verb: string): string {
  const denied = denyingRole(roles, resource, verb);
  const action = `access denied to perform action "${verb}" on "${resource}"`;
  if (denied) {
    return `${action}: role "${denied.role.metadata.name}" denies it with deny rule {resources: [${denied.rule.resources.join(', ')}], verbs: [${denied.rule.verbs.join(', ')}]}`;
  }
  if (rulesAllow(roles, resource, verb)) return '';
  const names = roles.map((role) => role.metadata.name).join(', ') || 'none';
  return `${action}: none of your roles (${names}) has an allow rule for it; an admin can add {resources: [${resource}], verbs: [${verb}]} to allow.rules of one of them (the editor role allows everything)`;
}
