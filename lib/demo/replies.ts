// Replies as the apiserver shapes them: Status errors with Go's field order and wording, and the
// content negotiation kubectl relies on (Tables, aggregated discovery).

export interface Reply {
  status: number;
  body: Buffer;
  contentType?: string;
  /** The handler has written the response itself (watch, followed logs). */
  streamed?: true;
}

export const streamedReply: Reply = { status: 200, body: Buffer.alloc(0), streamed: true };

interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
}

export const json = (value: unknown) => Buffer.from(JSON.stringify(value) + '\n');
// Close enough to Go's %q for the ASCII names used in tests.
export const q = (s: string) => JSON.stringify(s);
/** `{ key: value }`, or nothing when value is undefined: keeps absent fields out of the JSON. */
export const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : { [key]: value });

// Field order follows the Go struct so the bytes look like the real server's.
export function statusReply(code: number, reason: string, message: string, details?: StatusDetails): Reply {
  const doc: Record<string, unknown> = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason };
  if (details) {
    const d: StatusDetails = {};
    if (details.name) d.name = details.name;
    if (details.group) d.group = details.group;
    if (details.kind) d.kind = details.kind;
    doc.details = d;
  }
  doc.code = code;
  return { status: code, body: json(doc) };
}

export const unauthorized = statusReply(401, 'Unauthorized', 'Unauthorized');
export const pathNotFound = statusReply(404, 'NotFound', 'the server could not find the requested resource', {});
export const methodNotAllowed = statusReply(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
export const notFound = (resource: string, name: string) =>
  statusReply(404, 'NotFound', `${resource} ${q(name)} not found`, { name, kind: resource });

/** What an authorizer is asked about. */
export interface Attributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export function forbidden(username: string, a: Attributes): Reply {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace ${q(a.namespace)}` : 'at the cluster scope';
  const why = `User ${q(username)} cannot ${a.verb} resource ${q(resource)} in API group ${q(a.group)} ${scope}`;
  const gr = a.group ? `${a.resource}.${a.group}` : a.resource;
  const message = a.name ? `${gr} ${q(a.name)} is forbidden: ${why}` : `${gr} is forbidden: ${why}`;
  return statusReply(403, 'Forbidden', message, { name: a.name, group: a.group, kind: a.resource });
}

// ---------------------------------------------------------------------------------------------
// Content negotiation: kubectl sends a handful of fixed Accept strings, so results are cached.

export const tableContentType = 'application/json;as=Table;v=v1;g=meta.k8s.io';
export const discoveryContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const negotiated = new Map<string, 'table' | 'discovery' | 'plain'>();

// The first range the server can produce wins, as in the apiserver.
export function negotiate(accept: string | undefined): 'table' | 'discovery' | 'plain' {
  const key = accept ?? '';
  let found = negotiated.get(key);
  if (found) return found;
  found = 'plain';
  for (const range of key.split(',')) {
    const [type = '', ...rest] = range.split(';').map((part) => part.trim());
    if (type === '*/*' || type === 'application/*') break;
    if (type !== 'application/json') continue;
    const p = Object.fromEntries(rest.map((kv) => kv.split('=', 2).map((s) => s.trim())));
    if (p.as === undefined) break;
    if (p.as === 'Table' && p.g === 'meta.k8s.io' && p.v === 'v1') found = 'table';
    else if (p.as === 'APIGroupDiscoveryList' && p.g === 'apidiscovery.k8s.io' && p.v === 'v2') found = 'discovery';
    else continue;
    break;
  }
  if (negotiated.size > 256) negotiated.clear();
  negotiated.set(key, found);
  return found;
}
