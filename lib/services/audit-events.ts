// Audit events in Teleport's shapes (event names and codes users already query for).
import type { AuditEvent, Clock, Random } from '../core/ports.js';

export const auditCodes = {
  'user.login': { success: 'T1000I', failure: 'T1000W' },
  // Teleport's SSO login codes; the event name stays user.login, as Teleport's does.
  'user.login.sso': { success: 'T1001I', failure: 'T1001W' },
  'cert.create': { success: 'TC000I', failure: 'TC000I' },
  'user.create': { success: 'T1002I', failure: 'T1002I' },
  'user.delete': { success: 'T1004I', failure: 'T1004I' },
  // Both change the user as Teleport's user.update (T1003I) does; the event names tell which.
  'user.reset': { success: 'T1003I', failure: 'T1003I' },
  'user.unlock': { success: 'T1003I', failure: 'T1003I' },
  'resource.create': { success: 'T9000I', failure: 'T9000I' },
  'resource.delete': { success: 'T9001I', failure: 'T9001I' },
} as const;

export type AuditEventName = keyof typeof auditCodes;

export function auditEvent(
  deps: { clock: Clock; random: Random },
  event: AuditEventName,
  fields: Omit<AuditEvent, 'event' | 'code' | 'time' | 'uid'>,
): AuditEvent {
  const outcome = fields.success === false ? 'failure' : 'success';
  return {
    event: event === 'user.login.sso' ? 'user.login' : event,
    code: auditCodes[event][outcome],
    time: deps.clock.now().toISOString(),
    uid: Buffer.from(deps.random.bytes(16)).toString('hex'),
    ...fields,
  };
}
