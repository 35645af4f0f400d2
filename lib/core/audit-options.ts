// What a user's roles say about auditing and recording their Kubernetes sessions.
import type { Role } from './resources.js';

export type AuditMode = 'strict' | 'best_effort';

/** strict when any role asks for it: requests are refused while they cannot be audited. */
export function auditMode(roles: readonly Role[]): AuditMode {
  return roles.some((role) => role.spec.options.audit === 'strict') ? 'strict' : 'best_effort';
}

/** True when any role asks for keystrokes to be recorded (record_session.kubernetes_input). */
export function recordsInput(roles: readonly Role[]): boolean {
  return roles.some((role) => {
    const recording = role.spec.options.record_session as { kubernetes_input?: boolean } | undefined;
    return recording?.kubernetes_input === true;
  });
}
