// What a user's roles say about auditing and recording their Kubernetes sessions.
import type { Role } from './resources.js';

export type AuditMode = 'strict' | 'best_effort';

/** strict when any role asks for it: requests are refused while they cannot be audited. */
export function auditMode(roles: readonly Role[]): AuditMode {
  return strictAuditRole(roles) === undefined ? 'best_effort' : 'strict';
}

/** The first role that sets audit: strict, to name in a refusal; undefined when none does. */
export function strictAuditRole(roles: readonly Role[]): string | undefined {
  return roles.find((role) => role.spec.options.audit === 'strict')?.metadata.name;
}

/** Why a request of a strict identity is refused while events cannot be stored. */
export function auditUnavailableMessage(role: string): string {
  return `Kubeport cannot store audit events right now, and role "${role}" sets audit: strict; retry in a minute, or ask an admin to check the agent's audit store`;
}

/** Why a request of a strict identity is refused by an agent that has no audit sink at all. */
export function auditMissingMessage(role: string): string {
  return `role "${role}" sets audit: strict, but this Kubeport agent has no audit store configured, so nothing it answers would be recorded; ask an admin to give the agent an audit store (or remove audit: strict from the role)`;
}

/** True when any role asks for keystrokes to be recorded (record_session.kubernetes_input). */
export function recordsInput(roles: readonly Role[]): boolean {
  return roles.some((role) => {
    const recording = role.spec.options.record_session as { kubernetes_input?: boolean } | undefined;
    return recording?.kubernetes_input === true;
  });
}
