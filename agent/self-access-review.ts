// kubectl auth can-i asks the cluster, which knows only its own RBAC: it would say "yes" to
// requests the agent refuses. As Teleport does, the agent answers "no" itself when the roles
// would refuse the request asked about, with the rule as the reason; otherwise the cluster answers.
import { parseAccessReviewSpec } from '../lib/core/access-review-spec.js';
import type { KubeRequestInfo } from '../lib/core/kube-request-info.js';

export function isSelfAccessReview(request: KubeRequestInfo): boolean {
  return (
    request.verb === 'create' &&
    request.apiGroup === 'authorization.k8s.io' &&
    request.resource === 'selfsubjectaccessreviews' &&
    request.namespace === '' &&
    request.name === '' &&
    request.subresource === ''
  );
}

/**
 * The review the agent answers itself (201, JSON), or undefined to let the cluster answer:
 * reviews of non-resource paths, bodies it cannot read, and requests the roles allow.
 * `refusal` says why the roles would refuse a request, or undefined when they allow it.
 */
export function answerForRoles(
  review: KubeRequestInfo,
  body: Buffer,
  contentType: string | undefined,
  refusal: (request: KubeRequestInfo) => string | undefined,
): Buffer | undefined {
  const spec = parseAccessReviewSpec(body, contentType);
  const attributes = spec?.resourceAttributes;
  if (!spec || !attributes) return undefined;
  const group = attributes.group ?? '';
  const reason = refusal({
    isResourceRequest: true,
    verb: attributes.verb ?? '',
    apiPrefix: group === '' ? 'api' : 'apis',
    apiGroup: group,
    apiVersion: attributes.version ?? '',
    namespace: attributes.namespace ?? '',
    resource: attributes.resource ?? '',
    subresource: attributes.subresource ?? '',
    name: attributes.name ?? '',
    path: '',
  });
  if (reason === undefined) return undefined;
  return Buffer.from(
    JSON.stringify({
      kind: 'SelfSubjectAccessReview',
      apiVersion: `authorization.k8s.io/${review.apiVersion}`,
      metadata: { creationTimestamp: null },
      spec,
      status: { allowed: false, denied: true, reason },
    }),
  );
}
