// May this identity make this request on this cluster, and as whom? Roles are loaded as they
// are now (cached briefly), so a role change reaches certificates already issued and open streams.
import { type AuditMode, auditMissingMessage, auditUnavailableMessage, recordsInput, strictAuditRole } from '../lib/core/audit-options.js';
import { KubeportError } from '../lib/core/errors.js';
import type { CertifiedIdentity } from '../lib/core/identity.js';
import { BACKDATE_MS } from '../lib/core/certificate-template.js';
import {
  type ClusterView,
  type ImpersonationRequest,
  clusterNotFound,
  type KubePrincipals,
  checkSessionTtl,
  kubePrincipals,
  resolveImpersonation,
} from '../lib/core/kube-access.js';
import type { KubeRequestInfo } from '../lib/core/kube-request-info.js';
import { type LockingMode, maxKubernetesConnections } from '../lib/core/lock.js';
import { checkKubeResourceAccess } from '../lib/core/kube-resource-access.js';
import type { Role, User } from '../lib/core/resources.js';
import { checkUserStanding } from '../lib/core/user-standing.js';
import type { ClusterDirectory } from '../lib/core/ports.js';
import { kubeForbidden } from './kube-forbidden.js';
import type { LockCheck } from './locks.js';
import type { StreamLimit } from './request-scope.js';

export interface AuthorizeDeps {
  clusters: ClusterDirectory;
  loadRoles(names: string[]): Promise<Role[]>;
  loadUser(name: string): Promise<User | undefined>;
  /** The agent's lock view; without one, no lock is checked (tests of other things). */
  locks?: LockCheck;
  /** Where events go; while it is unhealthy, identities with an audit: strict role are refused. None: nothing is audited, and strict identities are always refused. */
  audit?: { readonly healthy: boolean };
}

export interface Decision {
  /** The cluster as registered (name, labels): how to reach it is resolved only after this decision. */
  cluster: ClusterView;
  principals: KubePrincipals;
  /** The locking mode the roles set (strict: refused while the lock view is stale). */
  lockMode: LockingMode;
  /** The roles' max_kubernetes_connections, when one sets it. */
  streamLimit?: StreamLimit;
  /** What the roles say to do when events cannot be stored (strict: refused then). */
  auditMode: AuditMode;
  /** Why the same roles would refuse another request on this cluster (kubectl auth can-i), or undefined. */
  refusal(other: KubeRequestInfo): string | undefined;
  /** A role asks for the keystrokes of interactive sessions to be recorded. */
  recordInput: boolean;
}

export async function authorize(
  deps: AuthorizeDeps,
  identity: CertifiedIdentity,
  clusterName: string,
  asked: ImpersonationRequest,
  request: KubeRequestInfo,
): Promise<Decision> {
  checkUserStanding(identity, await deps.loadUser(identity.username));
  const roles = await deps.loadRoles(identity.roles);
  // Locks before anything else, as Teleport's Authorize: a locked identity learns nothing more.
  const lockMode = deps.locks ? deps.locks.check(identity, roles) : 'best_effort';
  // The registered view only (the store, no network): resolving the upstream (EKS: DescribeCluster,
  // AssumeRole) for a cluster the user may not see would let anyone make the agent call AWS for it
  // and learn from the failure that it exists. The pipeline resolves it after this decision.
  const registered = await deps.clusters.registered(clusterName);
  // Unknown and hidden clusters get the same answer (kubePrincipals throws this for hidden ones), as Teleport's.
  if (!registered) throw clusterNotFound(clusterName);
  const view: ClusterView = { name: registered.name, labels: registered.labels };
  const granted = kubePrincipals(identity, roles, view);
  // A role shortened after login refuses certificates that outlive its max_session_ttl (Teleport does too).
  checkSessionTtl(roles, view, identity.notAfter.getTime() - identity.notBefore.getTime() - BACKDATE_MS, identity.traits);
  checkRequest(identity, roles, view, request);
  // Last, so a request the roles refuse anyway gets that refusal. A stream's recheck comes
  // through here too, so open streams of a strict identity end while events cannot be stored.
  const strictRole = strictAuditRole(roles);
  if (strictRole !== undefined) {
    // Fails closed: an agent without a sink cannot keep the promise audit: strict makes.
    if (!deps.audit) throw new KubeportError('unavailable', auditMissingMessage(strictRole));
    if (!deps.audit.healthy) throw new KubeportError('unavailable', auditUnavailableMessage(strictRole));
  }
  const refusal = (other: KubeRequestInfo) => {
    try {
      checkKubeResourceAccess(roles, identity.traits, view, other);
      return undefined;
    } catch (error) {
      if (error instanceof KubeportError && error.code === 'access_denied') return error.message;
      throw error;
    }
  };
  const streamLimit = maxKubernetesConnections(roles);
  return {
    cluster: view,
    principals: resolveImpersonation(identity.username, granted, asked),
    lockMode,
    auditMode: strictRole === undefined ? 'best_effort' : 'strict',
    ...(streamLimit ? { streamLimit } : {}),
    refusal,
    recordInput: recordsInput(roles),
  };
}

/**
 * The self-reviews (kubectl auth whoami, auth can-i) describe the caller to the caller and change
 * nothing, so kubernetes_resources do not gate them: a role narrowed to pods still lets its
 * user see who the cluster takes them for. The cluster's labels still decide.
 */
const SELF_REVIEWS = new Set([
  'authentication.k8s.io/selfsubjectreviews',
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
]);

function isSelfReview(request: KubeRequestInfo): boolean {
  const plain = request.verb === 'create' && request.namespace === '' && request.name === '' && request.subresource === '';
  return plain && SELF_REVIEWS.has(`${request.apiGroup}/${request.resource}`);
}

/** kubernetes_resources against what the request does; a refusal in the API server's words. */
function checkRequest(identity: CertifiedIdentity, roles: Role[], cluster: ClusterView, request: KubeRequestInfo): void {
  const checked = isSelfReview(request) ? { ...request, isResourceRequest: false } : request;
  try {
    checkKubeResourceAccess(roles, identity.traits, cluster, checked);
  } catch (error) {
    if (error instanceof KubeportError && error.code === 'access_denied') {
      // The API server's sentence already says what was asked; the roles' part says which rule refused.
      throw kubeForbidden(identity.username, request, error.message.replace(/^access to .* denied: /, ''));
    }
    throw error;
  }
}
