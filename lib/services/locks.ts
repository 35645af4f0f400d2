// What the admin API adds to locks beyond storing them: who created them and when (as Teleport
// records them), the fields their audit events carry, and removal of the ones that expired.
import { badRequest } from '../core/errors.js';
import type { CertifiedIdentity } from '../core/identity.js';
import { ADMIN_USER } from '../core/user-standing.js';
import { type Lock, isInForce } from '../core/lock.js';
import type { ServiceDeps } from './deps.js';

/**
 * The lock as stored: created_at and created_by are always the server's (now, the caller), as
 * Teleport records them, whatever the document says, so the audit trail cannot be forged. A lock
 * that has expired already would lock nobody, which is never what its author meant, so it is
 * refused. So is a lock on the local admin identity's user: that identity is never locked out of
 * the API (lib/services/lock-enforcement.ts), so such a lock would promise what it cannot do.
 */
export function lockToStore(deps: Pick<ServiceDeps, 'clock'>, caller: CertifiedIdentity, lock: Lock): Lock {
  const now = deps.clock.now();
  if (!isInForce(lock, now)) {
    throw badRequest(
      `lock "${lock.metadata.name}" expires at ${lock.spec.expires}, which is already past (now ${now.toISOString()}); give a later spec.expires, or --ttl`,
    );
  }
  if (lock.spec.target.user === ADMIN_USER) {
    throw badRequest(
      `lock "${lock.metadata.name}" targets ${ADMIN_USER}, the local admin identity, which must stay able to remove locks; lock the users or roles that misuse it instead`,
    );
  }
  return { ...lock, spec: { ...lock.spec, created_at: now.toISOString(), created_by: caller.username } };
}

/** lock.created / lock.deleted fields: what was locked, why, until when, and (Teleport's updated_by) who changed it. */
export function lockAuditFields(lock: Lock, caller: CertifiedIdentity): Record<string, unknown> {
  return {
    target: lock.spec.target,
    ...(lock.spec.message !== undefined ? { message: lock.spec.message } : {}),
    ...(lock.spec.expires !== undefined ? { expires: lock.spec.expires } : {}),
    updated_by: caller.username,
  };
}

/**
 * Removes locks whose expiry has passed: they do nothing any more (the agent ignores them), and
 * Teleport's backend lets them lapse the same way, without an audit event. Each removal is
 * conditional on the revision read, so a lock replaced meanwhile stays.
 */
export async function removeExpiredLocks(deps: Pick<ServiceDeps, 'resources' | 'clock'>): Promise<number> {
  const now = deps.clock.now();
  let removed = 0;
  for (const stored of await deps.resources.list<Lock>('lock')) {
    if (isInForce(stored.body, now)) continue;
    try {
      if (await deps.resources.delete('lock', stored.name, { expectRevision: stored.revision })) removed++;
    } catch {
      // Changed meanwhile: whoever changed it decides.
    }
  }
  return removed;
}

/** Locks still in force: an expired one is not shown, as in Teleport, where it has lapsed. */
export function inForce(locks: Lock[], now: Date): Lock[] {
  return locks.filter((lock) => isInForce(lock, now));
}
