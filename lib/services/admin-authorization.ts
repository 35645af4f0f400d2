// Every admin call is checked against the caller's roles as they are now (not as the certificate
// had them): their `rules` decide which verbs (list, read, create, update, delete) on which kinds.
import { ruleDenial, rulesAllow } from '../core/admin-rules.js';
import { accessDenied } from '../core/errors.js';
import type { CertifiedIdentity } from '../core/identity.js';
import type { ResourceStore } from '../core/ports.js';
import { loadRoles } from './roles.js';

export type AdminVerb = 'list' | 'read' | 'create' | 'update' | 'delete';

/** Refuses unless every (resource, verb) is allowed; the message names each missing rule. */
export async function authorize(
  resources: ResourceStore,
  caller: CertifiedIdentity,
  checks: readonly (readonly [resource: string, verb: AdminVerb])[],
): Promise<void> {
  const roles = await loadRoles(resources, caller.roles);
  const denials = checks.filter(([resource, verb]) => !rulesAllow(roles, resource, verb));
  if (denials.length === 0) return;
  const messages = [...new Set(denials.map(([resource, verb]) => ruleDenial(roles, resource, verb)))];
  throw accessDenied(messages.join('\n'));
}
