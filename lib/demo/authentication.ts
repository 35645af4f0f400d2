// Authentication (client certificates, bearer tokens), impersonation and the tiny RBAC, with the
// apiserver's answers when one of them refuses.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createHash } from 'node:crypto';
import { type Attributes, type Reply, forbidden, q } from './replies.js';
import type { KubeApiServerOptions, TokenUser, UserInfo } from './types.js';

const authenticatedGroup = 'system:authenticated';
const withAuthenticatedGroup = (groups: string[]) => (groups.includes(authenticatedGroup) ? groups : [...groups, authenticatedGroup]);

export function userFromCertificate(socket: TLSSocket): UserInfo | null {
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

export type TokenTable = Map<string, TokenUser>;

/** The token's user: from the table, else from `check` (which refuses with undefined or a throw). */
export function userFromToken(header: string | undefined, tokens: TokenTable, check?: (token: string) => TokenUser | undefined) {
  const [scheme = '', token = ''] = (header ?? '').trim().split(' ', 3);
  if (scheme.toLowerCase() !== 'bearer' || token === '') return null;
  const entry = tokens.get(token) ?? checkedToken(token, check);
  if (!entry) return null;
  const user: UserInfo = { username: entry.username, groups: withAuthenticatedGroup(entry.groups ?? []) };
  if (entry.uid) user.uid = entry.uid;
  return user;
}

function checkedToken(token: string, check: ((token: string) => TokenUser | undefined) | undefined): TokenUser | undefined {
  try {
    return check?.(token);
  } catch {
    return undefined;
  }
}

/** Who may impersonate: the named users, members of the named groups, and system:masters. */
export function impersonatorCheck(users: ReadonlySet<string>, groups: ReadonlySet<string> | undefined): (user: UserInfo) => boolean {
  return (user) => users.has(user.username) || user.groups.some((group) => group === 'system:masters' || groups?.has(group) === true);
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

export function impersonate(
  req: IncomingMessage,
  requestor: UserInfo,
  mayImpersonate: (user: UserInfo) => boolean,
): { user: UserInfo } | { reject: Reply } {
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
    const refs = [
      ...groups.map((g) => objectRef('Group', g)),
      ...extraRefs,
      ...(uid ? [objectRef('UID', uid, 'authentication.k8s.io/v1')] : []),
    ];
    if (refs.length === 0) return { user: requestor };
    // A plain-text 500, not a Status: the apiserver answers this case with http.Error.
    const text = `Internal Server Error: ${q(req.url ?? '')}: requested [${refs.join(' ')}] without impersonating a user`;
    const body = Buffer.from(text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') + '\n');
    return { reject: { status: 500, body, contentType: 'text/plain; charset=utf-8' } };
  }

  const sa = serviceAccountUser.exec(username);
  if (!mayImpersonate(requestor)) {
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

/** Whether `user` may act in `namespace` (undefined: cluster scope) under the `rbac` option. */
export type Authorizer = (user: UserInfo, namespace: string | undefined) => boolean;

export function createAuthorizer(grants: KubeApiServerOptions['rbac']): Authorizer {
  const rbac = grants && new Map(Object.entries(grants).map(([subject, scopes]) => [subject, new Set(scopes)]));
  return (user, namespace) => {
    if (!rbac || user.groups.includes('system:masters')) return true;
    return [user.username, ...user.groups].some((subject) => {
      const scopes = rbac.get(subject);
      return !!scopes && (scopes.has('*') || (namespace !== undefined && scopes.has(namespace)));
    });
  };
}
