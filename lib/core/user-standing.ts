// A certificate speaks for its user only while the user exists and was not revoked after the
// certificate was issued (removal, or a change of roles or traits).
//
// Times have millisecond precision, so a certificate and a revocation can share a millisecond.
// Three rules keep that safe both ways:
// - a certificate issued at or before revoked_before is revoked (inclusive), so one issued from
//   the old user in the very millisecond of the revocation is refused;
// - the issuer dates a certificate strictly after the revoked_before of the user it read, so a
//   login that already saw the changed user gets a certificate that works at once;
// - a revocation is never earlier than the one before it plus 1 ms, so it also covers
//   certificates the issuer dated 1 ms ahead in the millisecond of the revocation before.
import { KubeportError, accessDenied } from './errors.js';
import type { Identity } from './identity.js';
import type { User } from './resources.js';
import { AWS_IAM_CONNECTOR } from './aws-caller.js';

/** Identities that no stored user stands behind: the admin identity npm start issues. */
export const BUILTIN_CONNECTOR = 'builtin';
/** The user name of that admin identity; no GitHub or local user may take it. */
export const ADMIN_USER = 'kubeport-admin';
/**
 * Connector names a GitHub connector may not take: builtin is the admin identity's, local is
 * password login's, aws-iam is the IAM break-glass callers'.
 */
export const RESERVED_CONNECTOR_NAMES: readonly string[] = [BUILTIN_CONNECTOR, 'local', AWS_IAM_CONNECTOR];

export function checkUserStanding(identity: Identity, user: User | undefined): void {
  // Both the connector and the name: neither alone lets a certificate skip the user checks.
  if (identity.connector === BUILTIN_CONNECTOR && identity.username === ADMIN_USER && !user) return;
  if (!user) throw accessDenied(`user ${identity.username} no longer exists; ask an admin`);
  const revokedBefore = user.spec.revoked_before;
  // Inclusive: an unparsable issue time (NaN) compares false, so it is refused explicitly.
  const issuedAt = Date.parse(identity.issuedAt);
  if (revokedBefore && !(issuedAt > Date.parse(revokedBefore))) {
    throw new KubeportError(
      'unauthenticated',
      `your certificate was revoked at ${revokedBefore} (your user was changed or created again); run tsh login`,
    );
  }
}

/** The revoked_before to store for a change of `user` made at `now`. */
export function revocationTime(now: Date, user?: User): Date {
  const previous = user?.spec.revoked_before ? Date.parse(user.spec.revoked_before) : Number.NEGATIVE_INFINITY;
  return new Date(Math.max(now.getTime(), previous + 1));
}

/** The issue time a new certificate for `user` carries, taken at `now` before `user` was read. */
export function certificateIssueTime(now: Date, user: User): Date {
  const revokedBefore = user.spec.revoked_before ? Date.parse(user.spec.revoked_before) : Number.NEGATIVE_INFINITY;
  return new Date(Math.max(now.getTime(), revokedBefore + 1));
}
