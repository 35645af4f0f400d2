// A request the roles refuse gets the API server's own Forbidden shape, so kubectl prints
//   Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods"
//   in API group "" in the namespace "kube-system": <the rule that refused>
// and tools that read Status details (kind, name, group) find them where they expect them.
import { KubeportError } from '../lib/core/errors.js';
import type { KubeRequestInfo } from '../lib/core/kube-request-info.js';

/** Status details as the API server fills them for Forbidden: kind is the resource. */
export interface ForbiddenDetails {
  name?: string;
  group?: string;
  kind?: string;
}

export class KubeForbiddenError extends KubeportError {
  /** Not `details`: KubeportError's details are the problem list the HTTP API shows. */
  readonly statusDetails: ForbiddenDetails;

  constructor(message: string, details: ForbiddenDetails) {
    super('access_denied', message);
    this.name = 'KubeForbiddenError';
    this.statusDetails = details;
  }
}

/** `reason` says which role and rule refused; the rest is the API server's sentence. */
export function kubeForbidden(username: string, request: KubeRequestInfo, reason: string): KubeForbiddenError {
  const sentence = `${whoCannot(username, request)}: ${reason}`;
  if (!request.isResourceRequest) return new KubeForbiddenError(`forbidden: ${sentence}`, {});
  const groupResource = request.apiGroup ? `${request.resource}.${request.apiGroup}` : request.resource;
  const subject = request.name ? `${groupResource} ${JSON.stringify(request.name)}` : groupResource;
  return new KubeForbiddenError(`${subject} is forbidden: ${sentence}`, {
    ...(request.name ? { name: request.name } : {}),
    ...(request.apiGroup ? { group: request.apiGroup } : {}),
    kind: request.resource,
  });
}

function whoCannot(username: string, request: KubeRequestInfo): string {
  const user = JSON.stringify(username);
  if (!request.isResourceRequest) return `User ${user} cannot ${request.verb} path ${JSON.stringify(request.path)}`;
  const resource = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  const scope = request.namespace ? `in the namespace ${JSON.stringify(request.namespace)}` : 'at the cluster scope';
  return `User ${user} cannot ${request.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(request.apiGroup)} ${scope}`;
}
