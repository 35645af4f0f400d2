// Roles as they are now, re-read at most every few seconds, so a role change reaches
// every open connection quickly without a store read per request.
import type { Clock } from '../lib/core/ports.js';
import type { Role } from '../lib/core/resources.js';

export function cachedRoleLoader(load: (names: string[]) => Promise<Role[]>, clock: Clock, ttlMs = 2_000) {
  const cache = new Map<string, { at: number; roles: Promise<Role[]> }>();
  return (names: string[]): Promise<Role[]> => {
    const key = names.join('\n');
    const now = clock.now().getTime();
    const hit = cache.get(key);
    if (hit && now - hit.at < ttlMs) return hit.roles;
    const roles = load(names);
    cache.set(key, { at: now, roles });
    roles.catch(() => cache.delete(key));
    return roles;
  };
}
