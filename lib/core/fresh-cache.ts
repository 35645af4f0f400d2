// Things as they are now (roles, users, clusters), re-read at most every few seconds: a change
// reaches every open connection quickly without a store read per request. The one short-lived
// cache of the project; every such lookup goes through it.
import type { Clock } from './ports.js';

export const FRESH_FOR_MS = 2_000;

/**
 * Wraps `load` so each key is loaded at most once per `ttlMs`; callers that ask while a load is
 * under way share it. A failed load is forgotten at once, so the next caller tries again.
 */
export function cachedLoader<T>(
  load: (key: string) => Promise<T>,
  clock: Clock,
  ttlMs = FRESH_FOR_MS,
  maxEntries = 10_000,
): (key: string) => Promise<T> {
  const cache = new Map<string, { at: number; value: Promise<T> }>();
  return (key) => {
    const now = clock.now().getTime();
    const hit = cache.get(key);
    if (hit && now - hit.at < ttlMs) return hit.value;
    // Bounded: past the limit the oldest entries go (a Map iterates in insertion order).
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    const value = load(key);
    cache.set(key, { at: now, value });
    value.catch(() => {
      if (cache.get(key)?.value === value) cache.delete(key);
    });
    return value;
  };
}

/** Roles by their names, through a cachedLoader keyed by the sorted list. */
export function cachedRoles<T>(load: (names: string[]) => Promise<T>, clock: Clock, ttlMs = FRESH_FOR_MS): (names: string[]) => Promise<T> {
  const byKey = cachedLoader((key) => load(key.split('\n')), clock, ttlMs);
  return (names) => byKey([...names].sort().join('\n'));
}
