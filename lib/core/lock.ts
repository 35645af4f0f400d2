// kind: lock (v2), as Teleport users write it: a target (user, role, login, access request), a
// message shown to whoever it locks out, and an optional expiry. A lock in force refuses every new
// request of a matching identity and ends its open streams; an expired lock does nothing.
// Also what the roles say about locks and streams: the locking mode and max_kubernetes_connections.
import * as z from 'zod';
import type { Identity } from './identity.js';
import { describeTarget } from './lock-target.js';
import { metadata } from './metadata-schema.js';
import type { Role } from './role-schema.js';

/** Longest message kept: it travels in Status bodies and on exec's error channel. */
export const MAX_LOCK_MESSAGE_LENGTH = 1024;

/** Teleport targets that name nothing in Kubeport: refused, so a lock never promises what it cannot do. */
const NOTHING_TO_LOCK: Record<string, string> = {
  node: 'Kubeport has no SSH nodes',
  server_id: 'Kubeport agents are not locked by id; stop the agent instead',
  mfa_device: 'Kubeport has no MFA devices to lock',
  windows_desktop: 'Kubeport has no Windows desktops',
  device: 'Kubeport has no trusted devices',
  bot_instance_id: 'Kubeport has no bots',
  join_token: 'Kubeport has no join tokens',
};

/** C0 and C1 control characters and DEL: invisible in a terminal, so a name holding one deceives. */
function isControlCharacter(character: string): boolean {
  const code = character.codePointAt(0)!;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/**
 * A target name compared exactly with identities: "alice " or one with a control character
 * matches nobody, so a lock written so would lock nobody while looking in force. Refused rather
 * than trimmed, so what is stored is what the author typed.
 */
const targetName = (field: string) =>
  z
    .string()
    .min(1, 'must not be empty')
    .refine((value) => value === value.trim(), {
      message: `target ${field} must not start or end with whitespace; write the exact ${field} name`,
    })
    .refine((value) => ![...value].some(isControlCharacter), {
      message: `target ${field} must not contain control characters; write the exact ${field} name`,
    });

const lockTarget = z
  .object({
    user: targetName('user').optional(),
    role: targetName('role').optional(),
    login: targetName('login').optional(),
    access_request: targetName('access_request').optional(),
    ...Object.fromEntries(
      Object.entries(NOTHING_TO_LOCK).map(([field, why]) => [
        field,
        z
          .unknown()
          .refine((value) => value === undefined || value === '', {
            message: `target ${field} is not supported: ${why}; lock a user, role, login or access_request instead`,
          })
          .optional(),
      ]),
    ),
  })
  .strict()
  .refine((t) => [t.user, t.role, t.login, t.access_request].some((v) => v !== undefined), {
    message: 'set at least one of user, role, login or access_request (e.g. target: {user: alice})',
  });

const timestamp = z.iso.datetime({ offset: true, message: 'write an RFC 3339 time, e.g. 2026-12-02T18:00:00Z' });

export const lockSchema = z
  .object({
    kind: z.literal('lock'),
    version: z.literal('v2', 'lock version must be v2').default('v2'),
    metadata: metadata.extend({ revision: z.string().optional(), namespace: z.literal('default').optional() }).strict(),
    spec: z
      .object({
        target: lockTarget,
        message: z.string().max(MAX_LOCK_MESSAGE_LENGTH, `keep the message under ${MAX_LOCK_MESSAGE_LENGTH} characters`).optional(),
        /** When the lock stops applying; none: until it is removed. */
        expires: timestamp.optional(),
        /** Set by the server when the lock is stored, whatever the document says (lib/services/locks.ts). */
        created_at: timestamp.optional(),
        created_by: z.string().optional(),
      })
      .strict(),
  })
  .strict();
export type Lock = z.infer<typeof lockSchema>;
/** A lock applies until its expiry; from that instant on it does nothing. */
export function isInForce(lock: Lock, now: Date): boolean {
  return lock.spec.expires === undefined || now.getTime() < Date.parse(lock.spec.expires);
}

/**
 * Whether the lock names this identity: its user, one of its roles, one of its logins, or one of
 * its access requests. A target with several fields applies when any one matches, as Teleport
 * compares each of the identity's targets with the lock on its own.
 */
export function lockTargets(lock: Lock, identity: Pick<Identity, 'username' | 'roles' | 'traits' | 'accessRequests'>): boolean {
  const t = lock.spec.target;
  return (
    (t.user !== undefined && t.user === identity.username) ||
    (t.role !== undefined && identity.roles.includes(t.role)) ||
    (t.login !== undefined && (identity.traits.logins ?? []).includes(t.login)) ||
    (t.access_request !== undefined && identity.accessRequests.includes(t.access_request))
  );
}

/** The first lock in force at `now` that names the identity. */
export function lockInForceFor(
  locks: Iterable<Lock>,
  identity: Pick<Identity, 'username' | 'roles' | 'traits' | 'accessRequests'>,
  now: Date,
): Lock | undefined {
  for (const lock of locks) if (isInForce(lock, now) && lockTargets(lock, identity)) return lock;
  return undefined;
}

/** What a locked-out user reads, in Teleport's words. */
export function lockInForceMessage(lock: Lock): string {
  const message = lock.spec.message ? `: ${lock.spec.message}` : '';
  return `lock targeting ${describeTarget(lock.spec.target)} is in force${message}`;
}

/** Teleport's words for a strict-mode refusal while the lock view is stale. */
export const STRICT_LOCKOUT_MESSAGE = 'preventive lock-out due to local lock view becoming unreliable';

export type LockingMode = 'strict' | 'best_effort';

/** strict when any role asks for it, else the cluster's default (Teleport: one strict wins). */
export function lockingMode(roles: readonly Role[], clusterDefault: LockingMode = 'best_effort'): LockingMode {
  return roles.some((role) => role.spec.options.lock === 'strict') ? 'strict' : clusterDefault;
}

/**
 * The stream limit the roles set: the smallest non-zero max_kubernetes_connections, as Teleport
 * combines them, with the role that sets it; undefined when no role sets one.
 */
export function maxKubernetesConnections(roles: readonly Role[]): { max: number; role: string } | undefined {
  let found: { max: number; role: string } | undefined;
  for (const role of roles) {
    const max = role.spec.options.max_kubernetes_connections;
    if (max !== undefined && max > 0 && (found === undefined || max < found.max)) found = { max, role: role.metadata.name };
  }
  return found;
}
