// Loads roles as they are now: built-in ones unless an admin stored a replacement.
import { builtinRoles } from '../core/builtin-roles.js';
import type { ResourceStore } from '../core/ports.js';
import type { Role } from '../core/resources.js';

export async function loadRoles(resources: ResourceStore, names: string[]): Promise<Role[]> {
  // Read together: a login waits for all of them, one store round trip instead of one per role.
  const found = await Promise.all(
    names.map(async (name) => (await resources.get<Role>('role', name))?.body ?? builtinRoles.find((r) => r.metadata.name === name)),
  );
  return found.filter((role): role is Role => role !== undefined);
}

export async function listRoles(resources: ResourceStore): Promise<Role[]> {
  const stored = (await resources.list<Role>('role')).map((r) => r.body);
  const names = new Set(stored.map((r) => r.metadata.name));
  return [...stored, ...builtinRoles.filter((r) => !names.has(r.metadata.name))];
}
