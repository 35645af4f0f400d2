// May this request touch this Kubernetes resource? Teleport's order: any deny entry that matches
// refuses; then an allow entry of a role whose labels match the cluster must cover the request.
//
// Kubeport cannot filter list and watch results as Teleport does, so collection requests are
// decided whole: an allow entry must cover every object the answer could hold (name '*'; for a
// list across all namespaces, namespace '*'), and a deny entry refuses when it could cover any
// of them (a deny on one secret refuses listing the secrets of its namespace).
import { accessDenied } from './errors.js';
import type { Traits } from './identity.js';
import type { ClusterView } from './kube-access.js';
import { type Scope, resourceScope } from './kube-kinds.js';
import type { KubeRequestInfo } from './kube-request-info.js';
import { type ClusterRoles, type CompiledEntry, type PatternField, compileRoles, fieldPatterns } from './compiled-role.js';
import { compilePattern, coversEverything } from './patterns.js';
import { yamlScalar } from './role-kube-resources.js';
import type { Role } from './role-schema.js';

interface Target {
  verb: string;
  group: string;
  resource: string;
  /** '' for cluster-scoped objects and for requests across all namespaces. */
  namespace: string;
  name: string;
  /** The name as asked when it differs (a proxy's "http:web-1:8080"), for the message. */
  asked: string;
  scope: Scope;
}

export function checkKubeResourceAccess(roles: Role[], traits: Traits, cluster: ClusterView, request: KubeRequestInfo): void {
  const onCluster = checkClusterAccess(roles, traits, cluster);
  if (!request.isResourceRequest) return;
  const target = targetOf(request);
  for (const role of onCluster.denying) {
    for (const entry of role.denyEntries) {
      if (denyOverlaps(entry, target, traits)) {
        throw accessDenied(
          `access to ${describeTarget(target)} denied: role "${role.name}" denies it with deny.kubernetes_resources entry ${entry.source}`,
        );
      }
    }
  }
  if (isSelfReview(target)) return;
  let nameOnly = false;
  for (const role of onCluster.allowing) {
    for (const entry of role.allowEntries) {
      if (!allowCoversPlace(entry, target, traits)) continue;
      if (allowCoversName(entry, target, traits)) return;
      nameOnly = true;
    }
  }
  throw accessDenied(
    `access to ${describeTarget(target)} denied: no allow.kubernetes_resources entry of your roles (${roles.map((r) => r.metadata.name).join(', ')}) on cluster "${cluster.name}" covers it${hint(target, nameOnly)}; ask an admin for a role entry such as ${suggestion(target)}`,
  );
}

/** Throws unless a role's labels allow the cluster and no role denies the whole cluster; says which roles apply. */
export function checkClusterAccess(roles: Role[], traits: Traits, cluster: ClusterView): ClusterRoles {
  const set = compileRoles(roles);
  const onCluster = set.onCluster(cluster.labels, traits);
  if (onCluster.deniedBy) {
    throw accessDenied(
      `kubernetes cluster "${cluster.name}" is denied by role "${onCluster.deniedBy.name}" (its deny.kubernetes_labels match the cluster)`,
    );
  }
  if (onCluster.allowing.length === 0) {
    throw accessDenied(
      `kubernetes cluster "${cluster.name}" is not allowed by your roles (${set.roles.map((r) => r.name).join(', ') || 'none'}): no allow.kubernetes_labels match the cluster's labels`,
    );
  }
  return onCluster;
}

/**
 * kubectl auth whoami / can-i ask the cluster about the caller only (Teleport answers these
 * itself); like discovery they are allowed wherever the cluster is, unless a deny entry names them.
 */
const SELF_REVIEWS = new Set([
  'authentication.k8s.io/selfsubjectreviews',
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
]);

function isSelfReview(target: Target): boolean {
  return target.verb === 'create' && SELF_REVIEWS.has(`${target.group}/${target.resource}`);
}

/** The verb a role entry must grant: exec/attach, portforward and proxy are verbs of their own. */
export function kubeVerbOf(request: KubeRequestInfo): string {
  switch (request.subresource) {
    case 'exec':
    case 'attach':
      return 'exec';
    case 'portforward':
      return 'portforward';
    case 'proxy':
      return 'proxy';
    default:
      return request.verb;
  }
}

function targetOf(request: KubeRequestInfo): Target {
  const scope = resourceScope(request.apiGroup, request.resource);
  const verb = kubeVerbOf(request);
  return {
    verb,
    group: request.apiGroup,
    resource: request.resource,
    // The request-info puts a namespace object's own name in `namespace`; the object is cluster-scoped.
    namespace: scope === 'cluster' ? '' : request.namespace,
    name: verb === 'proxy' && request.apiGroup === '' && PROXIED.has(request.resource) ? proxiedName(request.name) : request.name,
    asked: request.name,
    scope,
  };
}

/** Resources whose proxy subresource takes [scheme:]NAME[:port] and reaches the object NAME. */
const PROXIED = new Set(['pods', 'services', 'nodes']);

/**
 * The object a proxy request reaches, split as the API server splits it (apimachinery's
 * SplitSchemeNamePort): NAME, NAME:PORT or SCHEME:NAME:PORT with scheme http, https or empty.
 * Entries are matched against NAME, or a deny on service "admin" would not cover "admin:80".
 * What the API server would refuse to split is matched whole (it reaches no object).
 */
export function proxiedName(id: string): string {
  const parts = id.split(':');
  let scheme = '';
  let name: string;
  if (parts.length === 1 || parts.length === 2) name = parts[0]!;
  else if (parts.length === 3) [scheme, name] = [parts[0]!, parts[1]!];
  else return id;
  return name !== '' && (scheme === '' || scheme === 'http' || scheme === 'https') ? name : id;
}

function kindMatches(entry: CompiledEntry, target: Target): boolean {
  return (entry.allVerbs || entry.verbs.has(target.verb)) && entry.kind(target.resource) && entry.group(target.group);
}

/** The entry's verbs, kind, group and namespace cover the request (its name is checked apart). */
function allowCoversPlace(entry: CompiledEntry, target: Target, traits: Traits): boolean {
  if (!kindMatches(entry, target)) return false;
  if (target.scope === 'cluster') return fieldMatches(entry.namespace, '', traits);
  if (target.namespace !== '') return fieldMatches(entry.namespace, target.namespace, traits);
  if (target.scope === 'namespaced') return fieldCoversAll(entry.namespace, traits);
  // An unknown resource without a namespace may be cluster-scoped or a list across namespaces:
  // namespace '*' covers both; namespace '' only when the entry names this very resource.
  return fieldCoversAll(entry.namespace, traits) || (entry.namespace.source === '' && entry.kindSource === target.resource);
}

function allowCoversName(entry: CompiledEntry, target: Target, traits: Traits): boolean {
  return target.name !== '' ? fieldMatches(entry.name, target.name, traits) : fieldCoversAll(entry.name, traits);
}

function denyOverlaps(entry: CompiledEntry, target: Target, traits: Traits): boolean {
  if (!kindMatches(entry, target)) return false;
  const namespaces = fieldPatterns(entry.namespace, traits);
  if (namespaces.length === 0) return false;
  let namespaceOk: boolean;
  if (target.scope === 'cluster') namespaceOk = fieldMatches(entry.namespace, '', traits);
  else if (target.namespace !== '') namespaceOk = fieldMatches(entry.namespace, target.namespace, traits);
  else if (target.scope === 'namespaced') namespaceOk = namespaces.some((pattern) => pattern !== '');
  else namespaceOk = true;
  if (!namespaceOk) return false;
  if (target.name !== '') return fieldMatches(entry.name, target.name, traits);
  return fieldPatterns(entry.name, traits).length > 0;
}

function fieldMatches(field: PatternField, value: string, traits: Traits): boolean {
  if (field.match) return field.match(value);
  return fieldPatterns(field, traits).some((pattern) => compilePattern(pattern)(value));
}

function fieldCoversAll(field: PatternField, traits: Traits): boolean {
  if (field.match) return field.everything;
  return fieldPatterns(field, traits).some(coversEverything);
}

function describeTarget(target: Target): string {
  const kind = target.group === '' ? target.resource : `${target.resource}.${target.group}`;
  const asked = target.asked !== target.name ? ` (asked as "${target.asked}")` : '';
  const object = target.name === '' ? kind : `${kind} "${target.name}"${asked}`;
  const where = target.scope === 'cluster' ? '' : target.namespace === '' ? ' in all namespaces' : ` in namespace "${target.namespace}"`;
  return `${target.verb} ${object}${where}`;
}

/**
 * What a collection request needs that a single object does not. The name hint only when an
 * entry would cover the request but for its name: when the namespace is what is missing, a
 * hint about names would send the reader the wrong way.
 */
function hint(target: Target, nameOnly: boolean): string {
  if (target.name !== '' || target.scope === 'cluster') return '';
  const across = target.namespace === '' && !nameOnly ? "; a request across all namespaces needs namespace '*' (or pass -n NAMESPACE)" : '';
  const names = nameOnly ? `; Kubeport does not filter lists, so a ${target.verb} needs an entry with name '*'` : '';
  return `${across}${names}`;
}

function suggestion(target: Target): string {
  const namespace = target.scope === 'cluster' ? '' : `, namespace: ${target.namespace === '' ? "'*'" : yamlScalar(target.namespace)}`;
  const name = target.name === '' ? "'*'" : yamlScalar(target.name);
  return `{kind: ${yamlScalar(target.resource)}, api_group: ${JSON.stringify(target.group)}${namespace}, name: ${name}, verbs: [${target.verb}]} (role v8)`;
}
