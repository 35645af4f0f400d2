// Locks refuse a locked identity at the API too, not only at the agent, as Teleport's auth server
// does: no admin call (it could remove its own lock) and no new certificate (login, GitHub,
// headless). The locks are read fresh from the store on each call: one list, no cache to go stale.
import { accessDenied } from '../core/errors.js';
import type { Identity } from '../core/identity.js';
import { type Lock, lockInForceFor, lockInForceMessage } from '../core/lock.js';
import type { Clock, ResourceStore } from '../core/ports.js';
import { ADMIN_USER, BUILTIN_CONNECTOR } from '../core/user-standing.js';

type LockedIdentity = Pick<Identity, 'username' | 'roles' | 'traits' | 'accessRequests'>;

/**
 * The local admin identity npm start writes (tctl's break-glass identity, no stored user behind
 * it). It is never refused at the API: were a lock on one of its roles (editor) to shut it out
 * too, nobody might be left who can remove the lock. Locks naming its user are refused when
 * created (lib/services/locks.ts), so no lock claims to hold it.
 */
export function isBreakGlassIdentity(identity: Pick<Identity, 'username' | 'connector'>): boolean {
  return identity.connector === BUILTIN_CONNECTOR && identity.username === ADMIN_USER;
}

/** Throws access_denied with the lock's message (Teleport's words) when a lock in force names the identity. */
export async function refuseIfLocked(
  deps: { resources: ResourceStore; clock: Clock },
  identity: LockedIdentity & Partial<Pick<Identity, 'connector'>>,
): Promise<void> {
  if (identity.connector !== undefined && isBreakGlassIdentity({ username: identity.username, connector: identity.connector })) return;
  const locks = (await deps.resources.list<Lock>('lock')).map((stored) => stored.body);
  const lock = lockInForceFor(locks, identity, deps.clock.now());
  if (lock) throw accessDenied(lockInForceMessage(lock));
}
