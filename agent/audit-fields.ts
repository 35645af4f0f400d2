// The fields every agent event carries, read off one RequestScope in Teleport's field names
// (reference: teleport-kubernetes-access.md §6), so kube.request and the session events agree.
import { MAX_REQUEST_PATH_BYTES, MAX_USER_AGENT_BYTES, capUtf8 } from '../lib/core/audit-field-limits.js';
import type { RequestScope } from './request-scope.js';

/** Sets `name` to `value` cut to `maxBytes`; a cut marks the event `truncated`. */
function setCapped(fields: Record<string, unknown>, name: string, value: string, maxBytes: number): void {
  const capped = capUtf8(value, maxBytes);
  fields[name] = capped.text;
  if (capped.cut) fields.truncated = true;
}

/** Identity, connection, cluster and the principals sent upstream; only what is known so far. */
export function scopeFields(scope: RequestScope): Record<string, unknown> {
  const identity = scope.identity;
  const fields: Record<string, unknown> = {
    // The id the agent sent upstream as Audit-ID: the cluster's own audit log joins on it.
    audit_id: scope.id,
    proto: 'kube',
    'addr.remote': scope.source,
  };
  setCapped(fields, 'user_agent', scope.userAgent, MAX_USER_AGENT_BYTES);
  if (identity) {
    fields.user = identity.username;
    fields.user_roles = identity.roles;
    fields.user_traits = identity.traits;
    fields.user_kind = identity.connector === 'local' ? 'local' : 'sso';
    fields.cert_serial = identity.serialNumber;
    if (identity.accessRequests.length > 0) fields.access_requests = identity.accessRequests;
  }
  if (scope.target) fields.kubernetes_cluster = scope.target.cluster;
  if (scope.registered) fields.kubernetes_labels = scope.registered.labels;
  if (scope.principals) {
    fields.kubernetes_users = scope.principals.users;
    fields.kubernetes_groups = scope.principals.groups;
  }
  return fields;
}

/** What the request acted on: method, path and the resource as the API server reads it. */
export function requestFields(scope: RequestScope): Record<string, unknown> {
  const fields: Record<string, unknown> = { verb: scope.method };
  // A refused request's path is the URL as asked, its query included.
  setCapped(fields, 'request_path', scope.target?.path ?? scope.url, MAX_REQUEST_PATH_BYTES);
  const request = scope.request;
  if (request?.isResourceRequest) {
    // Teleport writes the core group as core/v1.
    fields.resource_api_group = `${request.apiGroup || 'core'}/${request.apiVersion}`;
    fields.resource_kind = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
    if (request.namespace) fields.resource_namespace = request.namespace;
    // The name comes from the path, which a client may make as long as the head allows.
    if (request.name) setCapped(fields, 'resource_name', request.name, MAX_REQUEST_PATH_BYTES);
  }
  return fields;
}
