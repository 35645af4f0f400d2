// The one parse of an agent request target into {cluster, upstream path}. Authorization and
// forwarding both use its result, so they can never disagree about what is being reached.
import { isDnsLabel } from './dns-name.js';
import { badRequest } from './errors.js';

export interface KubeTarget {
  cluster: string;
  /** Path below the cluster prefix, always starting with '/'. */
  path: string;
  /** Raw query string including '?', or ''. */
  query: string;
}

const PREFIX = '/k8s/';
const REFUSED_ESCAPES = /%(2f|2e|5c|00)/i;

export function parseKubeTarget(rawTarget: string): KubeTarget {
  if (!/^[\x21-\x7e]*$/.test(rawTarget)) throw badRequest('request target must be printable ASCII');
  if (rawTarget.includes('#')) throw badRequest('request target must not carry a fragment');
  if (!rawTarget.startsWith(PREFIX)) {
    throw badRequest(
      // kubectl proxy drops the server's path unless told to keep it.
      `request path must start with ${PREFIX}<cluster>/; check the server of your kubeconfig (run tsh kube login <cluster>), and run kubectl proxy with --append-server-path`,
    );
  }
  const queryAt = rawTarget.indexOf('?');
  const rawPath = queryAt === -1 ? rawTarget : rawTarget.slice(0, queryAt);
  const query = queryAt === -1 ? '' : rawTarget.slice(queryAt);
  if (rawPath.includes('\\')) throw badRequest('request path must not contain a backslash');
  if (REFUSED_ESCAPES.test(rawPath)) throw badRequest('request path must not contain encoded "/", ".", "\\" or NUL');
  if (!decodes(rawPath)) throw badRequest('request path has a malformed percent-escape; encode "%" as %25');
  checkQuery(query);
  const rest = rawPath.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  const cluster = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '/' : rest.slice(slash);
  if (!isDnsLabel(cluster)) throw badRequest(`"${cluster}" is not a cluster name (cluster names are DNS-1123 labels)`);
  const segments = path.split('/').slice(1);
  segments.forEach((segment, index) => {
    if (segment === '.' || segment === '..') throw badRequest('request path must not contain "." or ".." segments');
    if (segment === '' && index !== segments.length - 1) throw badRequest('request path must not contain "//"');
  });
  return { cluster, path, query };
}

/**
 * The API server (Go) drops query pairs that hold a ";" or a malformed percent-escape, where
 * URLSearchParams keeps them: the agent would then read options (watch, fieldSelector) the
 * cluster never sees. Such queries are refused, so both read the same options.
 */
function checkQuery(query: string): void {
  for (const pair of query.slice(1).split('&')) {
    if (pair.includes(';')) throw badRequest('request query must not contain ";"; encode it as %3B');
    if (!decodes(pair)) throw badRequest('request query has a malformed percent-escape; encode "%" as %25');
  }
}

function decodes(text: string): boolean {
  if (!text.includes('%')) return true;
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}
