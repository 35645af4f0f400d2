// Loads roles as they are now: built-in ones unless an admin stored a replacement.
import { builtinRoles } from '../core/builtin-roles.js';
import type { ResourceStore } from '../core/ports.js';
import type { Role } from '../core/resources.js';

export async function loadRoles(resources: ResourceStore, names: string[]): Promise<Role[]> {
  const roles: Role[] = [];
  for (const name of names) {
    const stored = await resources.get<Role>('role', name);
    const role = stored?.body ?? builtinRoles.find((r) => r.metadata.name === name);
    if (role) roles.push(role);
  }
  return roles;
}

export async function listRoles(resources: ResourceStore): Promise<Role[]> {
  const stored = (await resources.list<Role>('role')).map((r) => r.body);
  const names = new Set(stored.map((r) => r.metadata.name));
  return [...stored, ...builtinRoles.filter((r) => !names.has(r.metadata.name))];
}
