// What a Kubernetes API request does, derived from its method, path and query the way the API
// server's request-info resolver does it (k8s.io/apiserver, endpoints/request/requestinfo.go),
// so a role is checked against the same verb, resource, namespace and name that the cluster's
// own authorizer would see for the forwarded request.
import { badRequest } from './errors.js';
import { namedBySelector } from './kube-field-selector.js';

export interface KubeRequestInfo {
  /** True for /api/VERSION/… and /apis/GROUP/VERSION/… below the discovery documents. */
  isResourceRequest: boolean;
  /**
   * Resource requests: get list watch create update patch delete deletecollection (or proxy,
   * watch from the legacy /proxy/ and /watch/ prefixes; '' for other methods). Non-resource
   * requests: the lowercased HTTP method.
   */
  verb: string;
  apiPrefix: 'api' | 'apis' | '';
  /** '' for the core group. */
  apiGroup: string;
  apiVersion: string;
  /** '' at the cluster scope (and for lists and watches across all namespaces). */
  namespace: string;
  /** Plural resource name, e.g. pods. */
  resource: string;
  subresource: string;
  /** '' for collections, unless a metadata.name field selector narrows a list or watch to one name. */
  name: string;
  /** The decoded path the API server sees. */
  path: string;
}

const API_PREFIXES = new Set(['api', 'apis']);
/** Prefixes whose next segment is the version, not a group. */
const GROUPLESS_PREFIXES = new Set(['api']);
/** Legacy path prefixes that set the verb: /api/v1/watch/…, /api/v1/proxy/…. */
const SPECIAL_VERBS = new Set(['proxy', 'watch']);
/** After namespaces/NAME these are the namespace's own subresources, not resources inside it. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

const METHOD_VERBS: Record<string, string> = {
  POST: 'create',
  GET: 'get',
  HEAD: 'get',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

/**
 * `path` is the path as it is forwarded (percent-escapes and all): it is decoded here as the API
 * server decodes it, so that what is checked is what the cluster acts on. `query` is the same
 * request's query.
 */
export function kubeRequestInfo(method: string, path: string, query: URLSearchParams): KubeRequestInfo {
  const decoded = decodePath(path);
  const info: KubeRequestInfo = {
    isResourceRequest: false,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    path: decoded,
  };
  let parts = splitPath(decoded);
  if (parts.length < 3 || !API_PREFIXES.has(parts[0]!)) return info;
  info.apiPrefix = parts[0] as 'api' | 'apis';
  parts = parts.slice(1);
  if (!GROUPLESS_PREFIXES.has(info.apiPrefix)) {
    // /apis/GROUP/VERSION is the group version's discovery document.
    if (parts.length < 3) return info;
    info.apiGroup = parts[0]!;
    parts = parts.slice(1);
  }
  info.isResourceRequest = true;
  info.apiVersion = parts[0]!;
  parts = parts.slice(1);

  if (SPECIAL_VERBS.has(parts[0]!)) {
    if (parts.length < 2) throw badRequest(`${decoded} names no resource after "${parts[0]}"; add the resource to the path`);
    info.verb = parts[0]!;
    parts = parts.slice(1);
  } else {
    info.verb = METHOD_VERBS[method.toUpperCase()] ?? '';
  }

  if (parts[0] === 'namespaces' && parts.length > 1) {
    info.namespace = parts[1]!;
    // namespaces/NS stays the namespace object; namespaces/NS/RESOURCE/… is inside it.
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }

  // resource/name/subresource/anything-else; the legacy proxy prefix has no subresources.
  info.resource = parts[0] ?? '';
  info.name = parts[1] ?? '';
  if (parts.length >= 3 && info.verb !== 'proxy') info.subresource = parts[2]!;

  if (info.name === '' && info.verb === 'get') {
    info.verb = watchRequested(query) ? 'watch' : 'list';
    info.name = namedBySelector(query);
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';
  checkLengths(info);
  return info;
}

/** A namespace is a DNS label; object names are at most DNS subdomains. */
const MAX_NAMESPACE = 63;
const MAX_NAME = 253;
/** A proxy names its object as [scheme:]NAME[:port]: room for "https:" and ":65535", and more. */
const MAX_PROXY_NAME = MAX_NAME + 20;

/**
 * No object the cluster holds has a longer name, so such a request can only be probing the role
 * matchers; refusing it keeps every decision's input short.
 */
function checkLengths(info: KubeRequestInfo): void {
  if (info.namespace.length > MAX_NAMESPACE) {
    throw badRequest(
      `namespace "${info.namespace.slice(0, 20)}…" is ${info.namespace.length} characters long; a Kubernetes namespace has at most ${MAX_NAMESPACE}`,
    );
  }
  const proxy = info.verb === 'proxy' || info.subresource === 'proxy';
  const limit = proxy ? MAX_PROXY_NAME : MAX_NAME;
  if (info.name.length > limit) {
    throw badRequest(
      `name "${info.name.slice(0, 20)}…" is ${info.name.length} characters long; a Kubernetes object name has at most ${MAX_NAME}${proxy ? ' (a proxy target with its scheme and port, ' + limit + ')' : ''}`,
    );
  }
}

/** As the API server reads the watch option: the first value, on unless it is 0 or false. */
function watchRequested(query: URLSearchParams): boolean {
  const first = query.get('watch');
  return first !== null && !/^(0|false)$/i.test(first);
}

/** Segments without leading and trailing slashes; none for "/". */
function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

function decodePath(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    throw badRequest(`request path ${path} has a malformed percent-escape; encode "%" as %25`);
  }
}
