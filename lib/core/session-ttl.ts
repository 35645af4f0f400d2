// How long a session may last: the shortest max_session_ttl of the user's roles caps a new
// certificate, and a certificate that lives longer than every role now allows on a cluster is
// refused there (a role shortened after login takes effect at once), as Teleport does.
import { certificateTtl } from './certificate-authority.js';
import { compileRole } from './compiled-role.js';
import { accessDenied } from './errors.js';
import type { Traits } from './identity.js';
import type { Role } from './role-schema.js';

/** Teleport's default max_session_ttl for a role that sets none. */
export const DEFAULT_MAX_SESSION_TTL_MS = 30 * 3_600_000;

export function roleMaxSessionTtls(roles: Role[]): number[] {
  return roles.flatMap((role) => {
    const ttl = compileRole(role).maxSessionTtlMs;
    return ttl === undefined ? [] : [ttl];
  });
}

/** The TTL a new certificate gets: the asked one (default 12h), capped by the shortest max_session_ttl. */
export function sessionTtl(requestedMs: number | undefined, roles: Role[]): number {
  return certificateTtl(requestedMs, roleMaxSessionTtls(roles));
}

/**
 * Refuses a session of `ttlMs` on a cluster unless a role that allows the cluster allows that
 * long. Pass the certificate's lifetime from its issue time (not from the backdated notBefore).
 */
export function checkSessionTtl(
  roles: Role[],
  cluster: { name: string; labels: Record<string, string> },
  ttlMs: number,
  traits: Traits = {},
): void {
  const allowing = roles.map(compileRole).filter((role) => role.allowLabels(cluster.labels, traits));
  if (allowing.some((role) => ttlMs <= (role.maxSessionTtlMs ?? DEFAULT_MAX_SESSION_TTL_MS))) return;
  const longest = Math.max(0, ...allowing.map((role) => role.maxSessionTtlMs ?? DEFAULT_MAX_SESSION_TTL_MS));
  throw accessDenied(
    `this user cannot request kubernetes access for ${goDuration(ttlMs)}: the roles that allow cluster "${cluster.name}" allow at most ${goDuration(longest)} (max_session_ttl); run tsh login again for a shorter session`,
  );
}

/** A duration the way Go prints it (30h0m0s), as Teleport's messages show it. */
export function goDuration(ms: number): string {
  const totalSeconds = Math.floor(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
