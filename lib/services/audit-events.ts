// Audit events in Teleport's shapes (event names and codes users already query for).
import type { AuditEvent, Clock, Random } from '../core/ports.js';

export const auditCodes = {
  'user.login': { success: 'T1000I', failure: 'T1000W' },
  // Teleport's SSO login codes; the event name stays user.login, as Teleport's does.
  'user.login.sso': { success: 'T1001I', failure: 'T1001W' },
  'cert.create': { success: 'TC000I', failure: 'TC000I' },
  'user.create': { success: 'T1002I', failure: 'T1002I' },
  'user.update': { success: 'T1003I', failure: 'T1003I' },
  'user.delete': { success: 'T1004I', failure: 'T1004I' },
  // Both change the user as Teleport's user.update (T1003I) does; the event names tell which.
  'user.reset': { success: 'T1003I', failure: 'T1003I' },
  'user.unlock': { success: 'T1003I', failure: 'T1003I' },
  'role.created': { success: 'T9000I', failure: 'T9000I' },
  'role.updated': { success: 'T9002I', failure: 'T9002I' },
  'role.deleted': { success: 'T9001I', failure: 'T9001I' },
  // T80002I (five digits) is Teleport's own code for github.updated.
  'github.created': { success: 'T8000I', failure: 'T8000I' },
  'github.updated': { success: 'T80002I', failure: 'T80002I' },
  'github.deleted': { success: 'T8001I', failure: 'T8001I' },
  'kube.create': { success: 'T3010I', failure: 'T3010I' },
  'kube.update': { success: 'T3011I', failure: 'T3011I' },
  'kube.delete': { success: 'T3012I', failure: 'T3012I' },
  'lock.created': { success: 'TLK00I', failure: 'TLK00I' },
  // The agent's events (issue 8): Teleport's codes for its Kubernetes events.
  'kube.request': { success: 'T3009I', failure: 'T3009I' },
  exec: { success: 'T3002I', failure: 'T3002E' },
  port: { success: 'T3003I', failure: 'T3003E' },
  'session.start': { success: 'T2000I', failure: 'T2000I' },
  'session.end': { success: 'T2004I', failure: 'T2004I' },
  'session.upload': { success: 'T2005I', failure: 'T2005I' },
  // Teleport skips discovery requests; Kubeport counts them per user and cluster (its own code).
  'kube.discovery': { success: 'KP3009I', failure: 'KP3009I' },
  'lock.deleted': { success: 'TLK01I', failure: 'TLK01I' },
  // CA lifecycle (Kubeport's own codes; Teleport audits no rotation step): a CA created at the
  // first start or deploy, each rotation phase change with who made it, a rotated-out key retired.
  'cert_authority.create': { success: 'KP1100I', failure: 'KP1100I' },
  'cert_authority.rotate': { success: 'KP1101I', failure: 'KP1101W' },
  'cert_authority.retire': { success: 'KP1102I', failure: 'KP1102I' },
} as const;

export type AuditEventName = keyof typeof auditCodes;

export type ResourceChange = 'create' | 'update' | 'delete';

/** Teleport's event for a change of a resource of `kind`, or undefined for a kind it has none for. */
export function changeEventName(kind: string, change: ResourceChange): AuditEventName | undefined {
  const names: Record<string, Partial<Record<ResourceChange, AuditEventName>>> = {
    role: { create: 'role.created', update: 'role.updated', delete: 'role.deleted' },
    user: { create: 'user.create', update: 'user.update', delete: 'user.delete' },
    github: { create: 'github.created', update: 'github.updated', delete: 'github.deleted' },
    kube_cluster: { create: 'kube.create', update: 'kube.update', delete: 'kube.delete' },
    // Teleport has no lock.updated; a replaced lock is a new lock.
    lock: { create: 'lock.created', update: 'lock.created', delete: 'lock.deleted' },
  };
  return names[kind]?.[change];
}

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
