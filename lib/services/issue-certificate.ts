// Turns a user who just proved who they are into a certificate for their own public key.
import { issueUserCertificate } from '../core/certificate-authority.js';
import { accessDenied } from '../core/errors.js';
import type { Identity } from '../core/identity.js';
import { identityFromCertificate } from '../core/leaf-certificate.js';
import type { User } from '../core/resources.js';
import { sessionTtl } from '../core/session-ttl.js';
import { certificateIssueTime } from '../core/user-standing.js';
import { auditEvent } from './audit-events.js';
import { refuseIfLocked } from './lock-enforcement.js';
import type { ServiceDeps } from './deps.js';
import { loadRoles } from './roles.js';

export interface IssuedCertificate {
  certPem: string;
  identity: Identity;
  expires: string;
}

export async function issueCertificateFor(
  deps: ServiceDeps,
  user: User,
  publicKeySpki: Uint8Array,
  requestedTtlMs: number | undefined,
  connector: string,
  /** Taken before `user` was read, so a change of the user landing after the read revokes the certificate. */
  issuedAt: Date = deps.clock.now(),
): Promise<IssuedCertificate> {
  const roles = await loadRoles(deps.resources, user.spec.roles);
  if (roles.length === 0) {
    throw accessDenied(
      `user ${user.metadata.name} has no existing roles (${user.spec.roles.join(', ') || 'none'}); ask an admin to grant one`,
    );
  }
  // Shortest max_session_ttl wins (lib/core/session-ttl.ts).
  const ttl = sessionTtl(requestedTtlMs, roles);
  const identity: Identity = {
    username: user.metadata.name,
    roles: roles.map((role) => role.metadata.name),
    traits: user.spec.traits,
    connector,
    accessRequests: [],
    // Strictly after the revocation of the user as read: a login right after a change works at once.
    issuedAt: certificateIssueTime(issuedAt, user).toISOString(),
  };
  // Every login path (local, GitHub, headless) ends here: a locked user gets no new certificate.
  await refuseIfLocked(deps, identity);
  const certPem = await issueUserCertificate(await deps.cas.signing('user'), publicKeySpki, identity, ttl);
  const expires = new Date(deps.clock.now().getTime() + ttl).toISOString();
  // Read back from the certificate: the serial the agent's events carry as cert_serial.
  const issued = identityFromCertificate(certPem);
  await deps.audit.emit(
    auditEvent(deps, 'cert.create', {
      user: identity.username,
      cert_type: 'user',
      cert_serial: issued.serialNumber,
      identity: {
        user: identity.username,
        roles: identity.roles,
        expires,
        // Kubeport certificates reach every cluster the roles allow (the agent routes by path): none is named in them.
        kubernetes_cluster: '',
        kubernetes_groups: identity.traits.kubernetes_groups ?? [],
        kubernetes_users: identity.traits.kubernetes_users ?? [],
        traits: identity.traits,
        connector: identity.connector,
        serial: issued.serialNumber,
      },
    }),
  );
  return { certPem, identity, expires };
}
