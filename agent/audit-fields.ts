// The fields every agent event carries, read off one RequestScope in Teleport's field names
// (reference: teleport-kubernetes-access.md §6), so kube.request and the session events agree.
import type { RequestScope } from './request-scope.js';

/** Identity, connection, cluster and the principals sent upstream; only what is known so far. */
export function scopeFields(scope: RequestScope): Record<string, unknown> {
  const identity = scope.identity;
  const fields: Record<string, unknown> = {
    // The id the agent sent upstream as Audit-ID: the cluster's own audit log joins on it.
    audit_id: scope.id,
    proto: 'kube',
    'addr.remote': scope.source,
    user_agent: scope.userAgent,
  };
  if (identity) {
    fields.user = identity.username;
    fields.user_roles = identity.roles;
    fields.user_traits = identity.traits;
    fields.user_kind = identity.connector === 'local' ? 'local' : 'sso';
    fields.cert_serial = identity.serialNumber;
    if (identity.accessRequests.length > 0) fields.access_requests = identity.accessRequests;
  }
  if (scope.target) fields.kubernetes_cluster = scope.target.cluster;
  if (scope.cluster) fields.kubernetes_labels = scope.cluster.labels;
  if (scope.principals) {
    fields.kubernetes_users = scope.principals.users;
    fields.kubernetes_groups = scope.principals.groups;
  }
  return fields;
}

/** What the request acted on: method, path and the resource as the API server reads it. */
export function requestFields(scope: RequestScope): Record<string, unknown> {
  const fields: Record<string, unknown> = { verb: scope.method, request_path: scope.target?.path ?? scope.url };
  const request = scope.request;
  if (request?.isResourceRequest) {
    // Teleport writes the core group as core/v1.
    fields.resource_api_group = `${request.apiGroup || 'core'}/${request.apiVersion}`;
    fields.resource_kind = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
    if (request.namespace) fields.resource_namespace = request.namespace;
    if (request.name) fields.resource_name = request.name;
  }
  return fields;
}
