// A wire-level stand-in for kube-apiserver, good enough for kubectl 1.32 and for tests of a
// proxy in front of one: real authentication (client certificates, bearer tokens), impersonation,
// a tiny RBAC, discovery, Tables and Status errors shaped like the real server's.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createHash, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { stringify as toYaml } from 'yaml';
import type { Duplex } from 'node:stream';
import { serveExec } from './kube-exec.js';
import { createTestCa, type PemPair, type TestCa } from './test-ca.js';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface PodFixture {
  name: string;
  /** Default Running. */
  phase?: string;
  /** Container names; default ['main']. */
  containers?: string[];
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeApiServerOptions {
  tokens?: Record<string, { username: string; groups?: string[]; uid?: string }>;
  /** Usernames allowed to impersonate anyone. Default ['kubeport-agent']. */
  impersonators?: string[];
  /**
   * User or group name -> namespaces it may do anything in; '*' also covers cluster-scoped
   * requests. Omitted: every authenticated user may do everything. system:masters always may.
   */
  rbac?: Record<string, string[]>;
  /** Default ['default', 'kube-system', 'prod']. */
  namespaces?: string[];
  /** Namespace -> pods. Default: web-0 and web-1 (Running, container 'web') in 'default'. */
  pods?: Record<string, PodFixture[]>;
  /**
   * Watches and followed logs: an event or a log line every intervalMs (default 200), and the
   * stream ends after durationMs (default 1000), as a server-side timeout would end it.
   */
  streams?: { intervalMs?: number; durationMs?: number };
}

export interface RecordedRequest {
  method: string;
  /** Request target as sent: path plus query. */
  path: string;
  /** Raw header lines in arrival order, names in their original case. */
  headers: Array<[string, string]>;
  /** Whom the credentials belong to; null when authentication failed. */
  authenticated: UserInfo | null;
  /** Whom the request runs as after impersonation; null when rejected before that. */
  effective: UserInfo | null;
  status?: number;
}

export interface KubeconfigOptions {
  contextName?: string;
  namespace?: string;
  /** Client-certificate user; default 'kubeport-agent'. */
  username?: string;
  groups?: string[];
  /** Authenticate with this bearer token instead of a client certificate. */
  token?: string;
  /** No credentials at all. Beware: kubectl then prompts for a username on stdin. */
  anonymous?: boolean;
}

export interface KubeApiServer {
  url: string;
  port: number;
  caPem: string;
  ca: TestCa;
  requests: RecordedRequest[];
  issueClientCert(username: string, groups?: string[]): Promise<PemPair>;
  writeKubeconfig(path: string, options?: KubeconfigOptions): Promise<string>;
  close(): Promise<void>;
}

/** All values of one header in a recorded request, matched case-insensitively. */
export function headerValues(request: RecordedRequest, name: string): string[] {
  const lower = name.toLowerCase();
  return request.headers.filter(([key]) => key.toLowerCase() === lower).map(([, value]) => value);
}

// ---------------------------------------------------------------------------------------------
// Replies and Status errors

interface Reply {
  status: number;
  body: Buffer;
  contentType?: string;
  /** The handler has written the response itself (watch, followed logs). */
  streamed?: true;
}

const streamedReply: Reply = { status: 200, body: Buffer.alloc(0), streamed: true };

interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value) + '\n');
// Close enough to Go's %q for the ASCII names used in tests.
const q = (s: string) => JSON.stringify(s);

// Field order follows the Go struct so the bytes look like the real server's.
function statusReply(code: number, reason: string, message: string, details?: StatusDetails): Reply {
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

const unauthorized = statusReply(401, 'Unauthorized', 'Unauthorized');
const pathNotFound = statusReply(404, 'NotFound', 'the server could not find the requested resource', {});
const methodNotAllowed = statusReply(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
const notFound = (resource: string, name: string) =>
  statusReply(404, 'NotFound', `${resource} ${q(name)} not found`, { name, kind: resource });

/** What an authorizer is asked about. */
interface Attributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

function forbidden(username: string, a: Attributes): Reply {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace ${q(a.namespace)}` : 'at the cluster scope';
  const why = `User ${q(username)} cannot ${a.verb} resource ${q(resource)} in API group ${q(a.group)} ${scope}`;
  const gr = a.group ? `${a.resource}.${a.group}` : a.resource;
  const message = a.name ? `${gr} ${q(a.name)} is forbidden: ${why}` : `${gr} is forbidden: ${why}`;
  return statusReply(403, 'Forbidden', message, { name: a.name, group: a.group, kind: a.resource });
}

// ---------------------------------------------------------------------------------------------
// Content negotiation: kubectl sends a handful of fixed Accept strings, so results are cached.

const tableContentType = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const discoveryContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const negotiated = new Map<string, 'table' | 'discovery' | 'plain'>();

// The first range the server can produce wins, as in the apiserver.
function negotiate(accept: string | undefined): 'table' | 'discovery' | 'plain' {
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

// ---------------------------------------------------------------------------------------------
// Discovery: one model, rendered once into the aggregated and the legacy documents.

interface ResourceDef {
  name: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  subresources?: Array<{ name: string; kind: string; verbs: string[] }>;
}

interface GroupVersionDef {
  group: string;
  version: string;
  resources: ResourceDef[];
}

const readVerbs = ['get', 'list', 'watch'];
const apiModel: GroupVersionDef[] = [
  {
    group: '',
    version: 'v1',
    resources: [
      { name: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, verbs: readVerbs, shortNames: ['ns'] },
      {
        name: 'pods',
        singular: 'pod',
        kind: 'Pod',
        namespaced: true,
        verbs: readVerbs,
        shortNames: ['po'],
        subresources: [
          { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
          { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
          { name: 'log', kind: 'Pod', verbs: ['get'] },
          { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
        ],
      },
    ],
  },
  {
    group: 'authentication.k8s.io',
    version: 'v1',
    resources: [{ name: 'selfsubjectreviews', singular: 'selfsubjectreview', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] }],
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    resources: [
      { name: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'] },
    ],
  },
];

const groupVersion = (gv: GroupVersionDef) => (gv.group ? `${gv.group}/${gv.version}` : gv.version);
const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : { [key]: value });

function aggregatedDiscovery(gvs: GroupVersionDef[]): Buffer {
  const items = gvs.map((gv) => {
    const responseKind = (kind: string) => ({ group: gv.group, version: gv.version, kind });
    const resources = gv.resources.map((r) => ({
      resource: r.name,
      responseKind: responseKind(r.kind),
      scope: r.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: r.singular,
      ...optional('shortNames', r.shortNames),
      verbs: r.verbs,
      ...optional('subresources', r.subresources?.map((s) => ({ subresource: s.name, responseKind: responseKind(s.kind), verbs: s.verbs }))),
    }));
    return { metadata: gv.group ? { name: gv.group } : {}, versions: [{ version: gv.version, resources, freshness: 'Current' }] };
  });
  return json({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items });
}

function resourceList(gv: GroupVersionDef): Buffer {
  const resources = gv.resources.flatMap((r) => [
    { name: r.name, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs, ...optional('shortNames', r.shortNames) },
    ...(r.subresources ?? []).map((s) => ({ name: `${r.name}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.kind, verbs: s.verbs })),
  ]);
  return json({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(gv), resources });
}

function groupList(gvs: GroupVersionDef[]): Buffer {
  const groups = gvs.map((gv) => {
    const version = { groupVersion: groupVersion(gv), version: gv.version };
    return { name: gv.group, versions: [version], preferredVersion: version };
  });
  return json({ kind: 'APIGroupList', apiVersion: 'v1', groups });
}

const coreModel = apiModel.filter((gv) => gv.group === '');
const groupModel = apiModel.filter((gv) => gv.group !== '');
const discoveryDocs = {
  aggregatedCore: aggregatedDiscovery(coreModel),
  aggregatedGroups: aggregatedDiscovery(groupModel),
  legacyGroups: groupList(groupModel),
  resourceLists: new Map(apiModel.map((gv) => [groupVersion(gv), resourceList(gv)])),
};

const versionDoc = json({
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T00:00:00Z',
  goVersion: 'go1.23.3',
  compiler: 'gc',
  platform: 'linux/amd64',
});

// ---------------------------------------------------------------------------------------------
// Fixture objects and their Table columns

interface KubeObject {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
  status: Record<string, unknown>;
}

/** An object plus its single-object JSON, serialized once. */
interface Stored {
  object: KubeObject;
  body: Buffer;
}

const store = (kind: string, object: KubeObject): Stored => ({ object, body: json({ kind, apiVersion: 'v1', ...object }) });
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const defaultPods: Record<string, PodFixture[]> = {
  default: [
    { name: 'web-0', containers: ['web'] },
    { name: 'web-1', containers: ['web'] },
  ],
};

function buildFixtures(options: KubeApiServerOptions) {
  // Five minutes old, so AGE columns read "5m" and watch tests can use later timestamps.
  const created = rfc3339(Date.now() - 5 * 60_000);
  let resourceVersion = 100;
  const meta = (name: string, namespace?: string) => ({
    name,
    ...optional('namespace', namespace),
    uid: randomUUID(),
    resourceVersion: String(++resourceVersion),
    creationTimestamp: created,
  });

  const namespaces = new Map<string, Stored>();
  for (const name of options.namespaces ?? ['default', 'kube-system', 'prod']) {
    const object = {
      metadata: { ...meta(name), labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
    namespaces.set(name, store('Namespace', object));
  }

  const pods = new Map<string, Stored[]>();
  let ip = 10;
  for (const [namespace, fixtures] of Object.entries(options.pods ?? defaultPods)) {
    const stored = fixtures.map((p) => {
      const containers = p.containers ?? ['main'];
      const phase = p.phase ?? 'Running';
      const metadata = { ...meta(p.name, namespace), ...optional('labels', p.labels), ...optional('annotations', p.annotations) };
      if (p.creationTimestamp) metadata.creationTimestamp = p.creationTimestamp;
      const started = metadata.creationTimestamp;
      const image = (name: string) => `example.test/${name}:1`;
      return store('Pod', {
        metadata,
        spec: { containers: containers.map((name) => ({ name, image: image(name) })), nodeName: 'node-1' },
        status: {
          phase,
          podIP: `10.244.0.${ip++}`,
          startTime: started,
          containerStatuses: containers.map((name) => ({
            name,
            image: image(name),
            ready: phase === 'Running',
            restartCount: 0,
            state: phase === 'Running' ? { running: { startedAt: started } } : { terminated: { exitCode: 0 } },
          })),
        },
      });
    });
    pods.set(namespace, stored);
  }
  return { namespaces, pods, resourceVersion: String(resourceVersion) };
}

// Same thresholds as kubectl's AGE column, so printed tables look familiar.
function humanAge(fromIso: string, nowMs: number): string {
  const s = Math.floor((nowMs - Date.parse(fromIso)) / 1000);
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  return d < 365 * 2 ? `${d}d` : `${Math.floor(d / 365)}y`;
}

interface Column {
  name: string;
  format?: string;
  /** >0: shown only with -o wide. */
  priority?: number;
  cell: (o: KubeObject, nowMs: number) => string;
}

function tableBody(columns: Column[], objects: KubeObject[], listMeta: Record<string, unknown>): Buffer {
  const now = Date.now();
  return json({
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: columns.map((c) => ({ name: c.name, type: 'string', format: c.format ?? '', description: '', priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o, now)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  });
}

const nameColumn: Column = { name: 'Name', format: 'name', cell: (o) => o.metadata.name };
const ageColumn: Column = { name: 'Age', cell: (o, now) => humanAge(o.metadata.creationTimestamp, now) };
const containerStatuses = (o: KubeObject) => o.status.containerStatuses as Array<{ ready: boolean; restartCount: number }>;

const podColumns: Column[] = [
  nameColumn,
  { name: 'Ready', cell: (o) => `${containerStatuses(o).filter((c) => c.ready).length}/${containerStatuses(o).length}` },
  { name: 'Status', cell: (o) => String(o.status.phase) },
  { name: 'Restarts', cell: (o) => String(containerStatuses(o).reduce((n, c) => n + c.restartCount, 0)) },
  ageColumn,
  { name: 'IP', priority: 1, cell: (o) => String(o.status.podIP) },
  { name: 'Node', priority: 1, cell: (o) => String(o.spec.nodeName) },
];
const namespaceColumns: Column[] = [nameColumn, { name: 'Status', cell: (o) => String(o.status.phase) }, ageColumn];

// ---------------------------------------------------------------------------------------------
// Authentication and impersonation

const authenticatedGroup = 'system:authenticated';
const withAuthenticatedGroup = (groups: string[]) => (groups.includes(authenticatedGroup) ? groups : [...groups, authenticatedGroup]);

function userFromCertificate(socket: TLSSocket): UserInfo | null {
  // authorized: the chain verified against our CA, validity dates and clientAuth usage included.
  if (!socket.authorized) return null;
  const cert = socket.getPeerCertificate();
  const cn = cert.subject?.CN;
  const username = Array.isArray(cn) ? cn[0] : cn;
  if (!username) return null;
  const o = cert.subject.O as string | string[] | undefined;
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  const fingerprint = createHash('sha256').update(cert.raw).digest('hex');
  return {
    username,
    groups: withAuthenticatedGroup(groups),
    extra: { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${fingerprint}`] },
  };
}

function userFromToken(header: string | undefined, tokens: Map<string, { username: string; groups?: string[]; uid?: string }>) {
  const [scheme = '', token = ''] = (header ?? '').trim().split(' ', 3);
  const entry = scheme.toLowerCase() === 'bearer' ? tokens.get(token) : undefined;
  if (!entry) return null;
  const user: UserInfo = { username: entry.username, groups: withAuthenticatedGroup(entry.groups ?? []) };
  if (entry.uid) user.uid = entry.uid;
  return user;
}

// Go formats a []ObjectReference with %v as space-separated struct fields.
const objectRef = (kind: string, name: string, apiVersion = '', fieldPath = '') =>
  `{${[kind, '', name, '', apiVersion, '', fieldPath].join(' ')}}`;

function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

const serviceAccountUser = /^system:serviceaccount:([^:]+):([^:]+)$/;

function impersonate(req: IncomingMessage, requestor: UserInfo, impersonators: Set<string>): { user: UserInfo } | { reject: Reply } {
  let username = '';
  let uid = '';
  const groups: string[] = [];
  const extra: Record<string, string[]> = {};
  const extraRefs: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (!name.startsWith('impersonate-')) continue;
    const value = raw[i + 1] as string;
    if (name === 'impersonate-user') username ||= value;
    else if (name === 'impersonate-uid') uid ||= value;
    else if (name === 'impersonate-group') groups.push(value);
    else if (name.startsWith('impersonate-extra-')) {
      const key = unescapeExtraKey(name.slice('impersonate-extra-'.length));
      (extra[key] ??= []).push(value);
      extraRefs.push(objectRef('UserExtra', value, 'authentication.k8s.io/v1', key));
    }
  }

  if (!username) {
    const refs = [...groups.map((g) => objectRef('Group', g)), ...extraRefs, ...(uid ? [objectRef('UID', uid, 'authentication.k8s.io/v1')] : [])];
    if (refs.length === 0) return { user: requestor };
    // A plain-text 500, not a Status: the apiserver answers this case with http.Error.
    const text = `Internal Server Error: ${q(req.url ?? '')}: requested [${refs.join(' ')}] without impersonating a user`;
    const body = Buffer.from(text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') + '\n');
    return { reject: { status: 500, body, contentType: 'text/plain; charset=utf-8' } };
  }

  const sa = serviceAccountUser.exec(username);
  if (!impersonators.has(requestor.username)) {
    const target: Attributes = sa
      ? { verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: sa[1], name: sa[2] }
      : { verb: 'impersonate', group: '', resource: 'users', name: username };
    return { reject: forbidden(requestor.username, target) };
  }

  // Listed groups replace the real ones; a service account without any gets its fixed groups.
  let effective = sa && groups.length === 0 ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`] : groups;
  if (username === 'system:anonymous') {
    if (!effective.includes('system:unauthenticated')) effective = [...effective, 'system:unauthenticated'];
  } else if (!effective.includes('system:unauthenticated')) effective = withAuthenticatedGroup(effective);
  const user: UserInfo = { username, groups: effective };
  if (uid) user.uid = uid;
  if (Object.keys(extra).length > 0) user.extra = extra;
  return { user };
}

// ---------------------------------------------------------------------------------------------
// SelfSubjectAccessReview bodies: kubectl auth can-i sends protobuf, other clients JSON.

interface AccessReviewSpec {
  resourceAttributes?: Record<string, string>;
  nonResourceAttributes?: Record<string, string>;
}

// Length-delimited fields of one protobuf message by field number; other wire types skipped.
function protoFields(buf: Buffer | undefined): Map<number, Buffer> | undefined {
  if (!buf) return undefined;
  const fields = new Map<number, Buffer>();
  let pos = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; pos < buf.length && shift < 35; shift += 7) {
      const byte = buf[pos++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new Error('bad varint');
  };
  try {
    while (pos < buf.length) {
      const tag = varint();
      const wireType = tag & 7;
      if (wireType === 0) varint();
      else if (wireType === 1) pos += 8;
      else if (wireType === 5) pos += 4;
      else if (wireType === 2) {
        const length = varint();
        fields.set(Math.floor(tag / 8), buf.subarray(pos, pos + length));
        pos += length;
      } else return undefined;
    }
  } catch {
    return undefined;
  }
  return pos === buf.length ? fields : undefined;
}

function protoStrings(buf: Buffer | undefined, names: string[]): Record<string, string> | undefined {
  const fields = protoFields(buf);
  if (!fields) return undefined;
  const out: Record<string, string> = {};
  names.forEach((name, i) => {
    const value = fields.get(i + 1);
    if (value?.length) out[name] = value.toString('utf8');
  });
  return out;
}

function parseAccessReviewSpec(body: Buffer, contentType: string | undefined): AccessReviewSpec | undefined {
  if (!contentType?.startsWith('application/vnd.kubernetes.protobuf')) {
    try {
      return (JSON.parse(body.toString('utf8')) as { spec?: AccessReviewSpec }).spec ?? {};
    } catch {
      return undefined;
    }
  }
  if (body.subarray(0, 4).toString('latin1') !== 'k8s\0') return undefined;
  // Envelope runtime.Unknown{raw=2} -> SelfSubjectAccessReview{spec=2} -> spec{resource=1, nonResource=2}.
  const spec = protoFields(protoFields(protoFields(body.subarray(4))?.get(2))?.get(2));
  if (!spec) return undefined;
  const resource = protoStrings(spec.get(1), ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name']);
  const nonResource = protoStrings(spec.get(2), ['path', 'verb']);
  return { ...optional('resourceAttributes', resource), ...optional('nonResourceAttributes', nonResource) };
}

// ---------------------------------------------------------------------------------------------
// Routing

interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  user: UserInfo;
  params: Record<string, string>;
  query: URLSearchParams;
}

interface Route {
  method: string;
  /** '/'-separated segments; ':x' captures parameter x. */
  pattern: string;
  /** What RBAC checks; routes without it are open to every authenticated user. */
  authorize?: (params: Record<string, string>) => Attributes;
  handle: (ctx: RequestContext) => Reply | Promise<Reply>;
}

type CompiledRoute = Route & { segments: string[] };

function matchRoute(routes: CompiledRoute[], method: string, path: string) {
  const parts = path.split('/').slice(1);
  let pathMatched = false;
  for (const route of routes) {
    if (route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = route.segments.every((seg, i) => {
      const part = parts[i] as string;
      if (!seg.startsWith(':')) return seg === part;
      try {
        params[seg.slice(1)] = decodeURIComponent(part);
      } catch {
        return false;
      }
      return part !== '';
    });
    if (!ok) continue;
    pathMatched = true;
    if (route.method === method) return { route, params };
  }
  return pathMatched ? 'wrong method' : undefined;
}

function readBody(req: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Writes `next()` every interval until the stream's time is up or the client leaves. */
function stream(ctx: RequestContext, contentType: string, options: { intervalMs: number; durationMs: number }, next: (tick: number) => string): Reply {
  const { res, record } = ctx;
  record.status = 200;
  res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  let tick = 0;
  const timer = setInterval(() => {
    if (!res.writableEnded) res.write(next(++tick));
  }, options.intervalMs);
  // The interval stops first: both timers can be due in the same turn of the event loop.
  const end = setTimeout(() => {
    clearInterval(timer);
    res.end();
  }, options.durationMs);
  res.on('close', () => {
    clearInterval(timer);
    clearTimeout(end);
  });
  return streamedReply;
}

/** A watch from the list's resourceVersion: each tick the first object changes (MODIFIED). */
function watchReply(ctx: RequestContext, items: KubeObject[], columns: Column[], options: { intervalMs: number; durationMs: number }): Reply {
  const asTable = negotiate(ctx.req.headers.accept) === 'table';
  return stream(ctx, 'application/json', options, (tick) => {
    const first = items[0];
    if (!first) return '';
    const object = { ...first, metadata: { ...first.metadata, resourceVersion: String(1000 + tick) } };
    const body = asTable ? JSON.parse(tableBody(columns, [object], { resourceVersion: object.metadata.resourceVersion }).toString()) : object;
    return `${JSON.stringify({ type: 'MODIFIED', object: body })}\n`;
  });
}

// Lists honour limit/continue with an offset token; watch=true streams changes instead.
function listReply(ctx: RequestContext, kind: string, items: KubeObject[], columns: Column[], resourceVersion: string, streams: { intervalMs: number; durationMs: number }): Reply {
  if (/^(true|1)$/.test(ctx.query.get('watch') ?? '')) return watchReply(ctx, items, columns, streams);
  const meta: Record<string, unknown> = { resourceVersion };
  let start = 0;
  const token = ctx.query.get('continue');
  if (token) {
    try {
      start = Number((JSON.parse(Buffer.from(token, 'base64').toString()) as { start?: unknown }).start);
    } catch {
      start = NaN;
    }
    if (!Number.isInteger(start) || start < 0) return statusReply(400, 'BadRequest', 'continue key is not valid');
  }
  const limit = Number(ctx.query.get('limit') ?? 0);
  const end = limit > 0 ? start + limit : items.length;
  const page = items.slice(start, end);
  if (end < items.length) {
    meta.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(resourceVersion), start: end })).toString('base64');
    meta.remainingItemCount = items.length - end;
  }
  if (negotiate(ctx.req.headers.accept) === 'table') {
    return { status: 200, body: tableBody(columns, page, meta), contentType: tableContentType };
  }
  return { status: 200, body: json({ kind, apiVersion: 'v1', metadata: meta, items: page }) };
}

/**
 * services/<name>/proxy: a proxied service that streams a line every interval until the client
 * leaves (a long response that is not a watch), and answers a POST with the size of its body.
 */
function serviceProxyRoutes(intervalMs: number): Route[] {
  const pattern = '/api/v1/namespaces/:ns/services/:name/proxy';
  const authorize = ({ ns, name }: Record<string, string>): Attributes => ({ verb: 'get', group: '', resource: 'services', subresource: 'proxy', namespace: ns, name });
  return [
    { method: 'GET', pattern, authorize, handle: (ctx) => stream(ctx, 'text/plain', { intervalMs, durationMs: 600_000 }, (tick) => `proxied line ${tick}\n`) },
    { method: 'POST', pattern, authorize, handle: async ({ req }) => ({ status: 200, body: json({ received: (await readBody(req, 64 << 20)).length }) }) },
  ];
}

// ---------------------------------------------------------------------------------------------
// The server

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const ca = await createTestCa('kube-stand-in-ca');
  const serving = await ca.issue({
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1'],
    serverAuth: true,
  });
  const impersonators = new Set(options.impersonators ?? ['kubeport-agent']);
  const tokens = new Map(Object.entries(options.tokens ?? {}));
  const rbac = options.rbac && new Map(Object.entries(options.rbac).map(([subject, scopes]) => [subject, new Set(scopes)]));
  const fixtures = buildFixtures(options);
  const allPods = [...fixtures.pods.values()].flat().map((s) => s.object);
  const requests: RecordedRequest[] = [];
  let legacyCore = Buffer.alloc(0); // names the listening port, so it is built after listen

  function allowed(user: UserInfo, namespace: string | undefined): boolean {
    if (!rbac || user.groups.includes('system:masters')) return true;
    return [user.username, ...user.groups].some((subject) => {
      const scopes = rbac.get(subject);
      return !!scopes && (scopes.has('*') || (namespace !== undefined && scopes.has(namespace)));
    });
  }

  const ok = (body: Buffer | undefined): Reply => (body ? { status: 200, body } : pathNotFound);
  const discovery = (ctx: RequestContext, aggregated: Buffer, legacy: Buffer): Reply =>
    negotiate(ctx.req.headers.accept) === 'discovery'
      ? { status: 200, body: aggregated, contentType: discoveryContentType }
      : { status: 200, body: legacy };
  const streams = { intervalMs: options.streams?.intervalMs ?? 200, durationMs: options.streams?.durationMs ?? 1000 };
  const list = (ctx: RequestContext, kind: string, items: KubeObject[], columns: Column[]) =>
    listReply(ctx, kind, items, columns, fixtures.resourceVersion, streams);
  const created = (body: unknown): Reply => ({ status: 201, body: json(body) });
  const now = () => ({ creationTimestamp: rfc3339(Date.now()) });

  // Later endpoints (watch, log, exec, portforward) slot in as more rows.
  const routeTable: Route[] = [
    { method: 'GET', pattern: '/version', handle: () => ({ status: 200, body: versionDoc }) },
    { method: 'GET', pattern: '/api', handle: (ctx) => discovery(ctx, discoveryDocs.aggregatedCore, legacyCore) },
    { method: 'GET', pattern: '/apis', handle: (ctx) => discovery(ctx, discoveryDocs.aggregatedGroups, discoveryDocs.legacyGroups) },
    { method: 'GET', pattern: '/api/:v', handle: ({ params }) => ok(discoveryDocs.resourceLists.get(params.v ?? '')) },
    { method: 'GET', pattern: '/apis/:g/:v', handle: ({ params }) => ok(discoveryDocs.resourceLists.get(`${params.g}/${params.v}`)) },
    {
      method: 'GET',
      pattern: '/api/v1/namespaces',
      authorize: () => ({ verb: 'list', group: '', resource: 'namespaces' }),
      handle: (ctx) => list(ctx, 'NamespaceList', [...fixtures.namespaces.values()].map((s) => s.object), namespaceColumns),
    },
    {
      method: 'GET',
      pattern: '/api/v1/namespaces/:ns',
      // The apiserver files a namespace under itself, so a grant in that namespace covers it.
      authorize: ({ ns }) => ({ verb: 'get', group: '', resource: 'namespaces', namespace: ns, name: ns }),
      handle: ({ params: { ns = '' } }) => {
        const namespace = fixtures.namespaces.get(ns);
        return namespace ? ok(namespace.body) : notFound('namespaces', ns);
      },
    },
    {
      method: 'GET',
      pattern: '/api/v1/pods',
      authorize: () => ({ verb: 'list', group: '', resource: 'pods' }),
      handle: (ctx) => list(ctx, 'PodList', allPods, podColumns),
    },
    {
      method: 'GET',
      pattern: '/api/v1/namespaces/:ns/pods',
      authorize: ({ ns }) => ({ verb: 'list', group: '', resource: 'pods', namespace: ns }),
      handle: (ctx) => list(ctx, 'PodList', (fixtures.pods.get(ctx.params.ns ?? '') ?? []).map((s) => s.object), podColumns),
    },
    {
      method: 'GET',
      pattern: '/api/v1/namespaces/:ns/pods/:name',
      authorize: ({ ns, name }) => ({ verb: 'get', group: '', resource: 'pods', namespace: ns, name }),
      handle: ({ params: { ns = '', name = '' } }) => {
        const pod = fixtures.pods.get(ns)?.find((s) => s.object.metadata.name === name);
        return pod ? ok(pod.body) : notFound('pods', name);
      },
    },
    {
      method: 'GET',
      pattern: '/api/v1/namespaces/:ns/pods/:name/log',
      authorize: ({ ns, name }) => ({ verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace: ns, name }),
      handle: (ctx) => {
        const { ns = '', name = '' } = ctx.params;
        if (!fixtures.pods.get(ns)?.some((s) => s.object.metadata.name === name)) return notFound('pods', name);
        if (/^(true|1)$/.test(ctx.query.get('follow') ?? '')) return stream(ctx, 'text/plain', streams, (tick) => `${name} log line ${tick}\n`);
        return { status: 200, body: Buffer.from(`${name} log line 0\n`), contentType: 'text/plain' };
      },
    },
    {
      method: 'POST',
      pattern: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      handle: async ({ req, user }) => {
        await readBody(req);
        return created({ kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: now(), status: { userInfo: user } });
      },
    },
    {
      method: 'POST',
      pattern: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      handle: async ({ req, user }) => {
        const spec = parseAccessReviewSpec(await readBody(req), req.headers['content-type']);
        if (!spec) return statusReply(400, 'BadRequest', 'the request body is not a valid SelfSubjectAccessReview');
        const attrs = spec.resourceAttributes;
        const status = { allowed: attrs ? allowed(user, attrs.namespace || undefined) : true };
        return created({ kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: now(), spec, status });
      },
    },
    ...serviceProxyRoutes(streams.intervalMs),
  ];
  const routes: CompiledRoute[] = routeTable.map((r) => ({ ...r, segments: r.pattern.split('/').slice(1) }));

  // A connection's client certificate never changes, so it is read once per socket.
  const certUsers = new WeakMap<object, UserInfo | null>();
  function authenticate(req: IncomingMessage): UserInfo | null {
    const socket = req.socket as TLSSocket;
    let fromCert = certUsers.get(socket);
    if (fromCert === undefined) certUsers.set(socket, (fromCert = userFromCertificate(socket)));
    return fromCert ?? userFromToken(req.headers.authorization, tokens);
  }

  function send(res: ServerResponse, record: RecordedRequest, reply: Reply): void {
    if (reply.streamed) return;
    record.status = reply.status;
    res.writeHead(reply.status, {
      'Content-Type': reply.contentType ?? 'application/json',
      'Content-Length': reply.body.length,
      'Cache-Control': 'no-cache, private',
      ...(reply.contentType === discoveryContentType ? { Vary: 'Accept' } : {}),
      ...(reply.contentType?.startsWith('text/') ? { 'X-Content-Type-Options': 'nosniff' } : {}),
    });
    res.end(reply.body);
  }

  function recordRequest(req: IncomingMessage): RecordedRequest {
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
    const record: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers, authenticated: null, effective: null };
    requests.push(record);
    return record;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    const record = recordRequest(req);

    const authenticated = authenticate(req);
    if (!authenticated) return send(res, record, unauthorized);
    record.authenticated = authenticated;
    const impersonation = impersonate(req, authenticated, impersonators);
    if ('reject' in impersonation) return send(res, record, impersonation.reject);
    const user = (record.effective = impersonation.user);

    const queryAt = target.indexOf('?');
    let path = queryAt < 0 ? target : target.slice(0, queryAt);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const match = matchRoute(routes, record.method, path);
    if (match === undefined) return send(res, record, pathNotFound);
    if (match === 'wrong method') return send(res, record, methodNotAllowed);
    const attrs = match.route.authorize?.(match.params);
    if (attrs && !allowed(user, attrs.namespace)) return send(res, record, forbidden(user.username, attrs));

    const query = new URLSearchParams(queryAt < 0 ? '' : target.slice(queryAt + 1));
    let reply: Reply;
    try {
      reply = await match.route.handle({ req, res, record, user, params: match.params, query });
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      reply = statusReply(500, 'InternalError', err instanceof Error ? err.message : String(err));
    }
    send(res, record, reply);
  }

  const server = https.createServer(
    { key: serving.keyPem, cert: serving.certPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] },
    (req, res) => void handle(req, res),
  );
  // exec over WebSocket: authenticated, impersonated and authorized like any request.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = req.url ?? '/';
    const record = recordRequest(req);
    const refuse = (reply: Reply) => {
      record.status = reply.status;
      socket.end(`HTTP/1.1 ${reply.status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${reply.body.length}\r\nConnection: close\r\n\r\n${reply.body.toString()}`);
    };
    const authenticated = authenticate(req);
    if (!authenticated) return refuse(unauthorized);
    record.authenticated = authenticated;
    const impersonation = impersonate(req, authenticated, impersonators);
    if ('reject' in impersonation) return refuse(impersonation.reject);
    const user = (record.effective = impersonation.user);
    const url = new URL(target, 'https://stand-in');
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    if (!match || !fixtures.pods.get(match[1]!)?.some((s) => s.object.metadata.name === match[2])) return refuse(pathNotFound);
    const attrs = { verb: 'get', group: '', resource: 'pods', subresource: 'exec', namespace: match[1]!, name: match[2]! };
    if (!allowed(user, attrs.namespace)) return refuse(forbidden(user.username, attrs));
    record.status = 101;
    serveExec(req, socket, head, url.searchParams.getAll('command'));
  });
  // Go clients keep idle connections for 90 s; closing them sooner only invites reconnect races.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  legacyCore = json({
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }],
  });

  const issueClientCert = (username: string, groups: string[] = []) => ca.issue({ commonName: username, organizations: groups, clientAuth: true });

  async function writeKubeconfig(path: string, opts: KubeconfigOptions = {}): Promise<string> {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const username = opts.username ?? 'kubeport-agent';
    let user: Record<string, string> = {};
    if (opts.token) user = { token: opts.token };
    else if (!opts.anonymous) {
      const pair = await issueClientCert(username, opts.groups);
      user = { 'client-certificate-data': b64(pair.certPem), 'client-key-data': b64(pair.keyPem) };
    }
    const userName = opts.token ? 'token-user' : opts.anonymous ? 'anonymous' : username;
    const contextName = opts.contextName ?? 'stand-in';
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'stand-in', cluster: { server: url, 'certificate-authority-data': b64(ca.certPem) } }],
      users: [{ name: userName, user }],
      contexts: [{ name: contextName, context: { cluster: 'stand-in', user: userName, ...optional('namespace', opts.namespace) } }],
      'current-context': contextName,
      preferences: {},
    };
    await writeFile(path, toYaml(config), { mode: 0o600 });
    return path;
  }

  async function close(): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  return { url, port, caPem: ca.certPem, ca, requests, issueClientCert, writeKubeconfig, close };
}
