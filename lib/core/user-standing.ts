// A certificate speaks for its user only while the user exists and was not revoked after the
// certificate was issued (removal, or a change of roles or traits).
import { KubeportError, accessDenied } from './errors.js';
import type { Identity } from './identity.js';
import type { User } from './resources.js';

/** Identities that no stored user stands behind: the admin identity npm start issues. */
export const BUILTIN_CONNECTOR = 'builtin';

export function checkUserStanding(identity: Identity, user: User | undefined): void {
  if (identity.connector === BUILTIN_CONNECTOR) return;
  if (!user) throw accessDenied(`user ${identity.username} no longer exists; ask an admin`);
  const revokedBefore = user.spec.revoked_before;
  if (revokedBefore && Date.parse(identity.issuedAt) < Date.parse(revokedBefore)) {
    throw new KubeportError('unauthenticated', `your certificate was revoked at ${revokedBefore} (your user was changed or created again); run tsh login`);
  }
}
