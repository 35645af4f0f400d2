// The events of an exec, attach or port-forward session, in Teleport's names and fields, read
// off the scope of its upgrade request. Their uids derive from the session id (the upgrade's
// Audit-ID), so an event stored twice (a replay from the spool) is still one event.
import type { AuditEvent } from '../lib/core/ports.js';
import { type AuditEventName, auditCodes } from '../lib/services/audit-events.js';
import { requestFields, scopeFields } from './audit-fields.js';
import type { RequestScope } from './request-scope.js';

export type SessionKind = 'exec' | 'attach' | 'portforward';

/** What the upgrade's request says about the session it opens. */
export interface SessionRequest {
  kind: SessionKind;
  namespace: string;
  pod: string;
  container: string;
  /** exec's command, one word per element ([] for attach and port-forward). */
  command: string[];
  tty: boolean;
  stdin: boolean;
  /** port-forward: the ports the query names (kubectl names them per stream instead). */
  ports: string[];
}

const on = (query: URLSearchParams, name: string) => query.getAll(name).some((value) => /^(true|1)$/i.test(value));

/** The session an upgrade opens, or undefined for upgrades that are not sessions (proxied WebSockets). */
export function sessionRequest(scope: RequestScope): SessionRequest | undefined {
  const request = scope.request;
  if (!request || request.apiPrefix !== 'api' || request.resource !== 'pods') return undefined;
  const kind = request.subresource;
  if (kind !== 'exec' && kind !== 'attach' && kind !== 'portforward') return undefined;
  const query = new URLSearchParams(scope.target?.query ?? '');
  return {
    kind,
    namespace: request.namespace,
    pod: request.name,
    container: query.get('container') ?? '',
    command: kind === 'exec' ? query.getAll('command') : [],
    tty: kind !== 'portforward' && on(query, 'tty'),
    stdin: kind !== 'portforward' && on(query, 'stdin'),
    ports: query.getAll('ports').flatMap((p) => p.split(',').filter(Boolean)),
  };
}

export function sessionEvent(name: AuditEventName, sid: string, suffix: string, time: Date, fields: Record<string, unknown>): AuditEvent {
  const success = fields.success !== false;
  return {
    event: name,
    code: auditCodes[name][success ? 'success' : 'failure'],
    time: time.toISOString(),
    uid: `${sid}/${suffix}`,
    ...fields,
  };
}

/** Who, where and on what: the fields every event of the session carries. */
export function sessionFields(scope: RequestScope, session: SessionRequest): Record<string, unknown> {
  return {
    ...scopeFields(scope),
    ...requestFields(scope),
    sid: scope.id,
    kubernetes_pod_name: session.pod,
    kubernetes_pod_namespace: session.namespace,
    ...(session.container ? { kubernetes_container_name: session.container } : {}),
  };
}
