// What every request and every upgrade goes through first: the request log, authentication,
// then impersonation. Routing and authorization follow in the caller.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { type TokenTable, impersonate, userFromCertificate, userFromToken } from './authentication.js';
import { type Reply, unauthorized } from './replies.js';
import { recordRequest } from './request-log.js';
import type { RecordedRequest, TokenUser, UserInfo } from './types.js';

export type Admission = { record: RecordedRequest } & ({ user: UserInfo } | { reject: Reply });

export interface AdmissionOptions {
  requests: RecordedRequest[];
  tokens: TokenTable;
  authenticateToken?: (token: string) => TokenUser | undefined;
  mayImpersonate: (user: UserInfo) => boolean;
}

export function createAdmission(options: AdmissionOptions) {
  // A connection's client certificate never changes, so it is read once per socket.
  const certUsers = new WeakMap<object, UserInfo | null>();
  function authenticate(req: IncomingMessage): UserInfo | null {
    const socket = req.socket as TLSSocket;
    let fromCert = certUsers.get(socket);
    if (fromCert === undefined) certUsers.set(socket, (fromCert = userFromCertificate(socket)));
    return fromCert ?? userFromToken(req.headers.authorization, options.tokens, options.authenticateToken);
  }

  return (req: IncomingMessage): Admission => {
    const record = recordRequest(options.requests, req);
    const authenticated = authenticate(req);
    if (!authenticated) return { record, reject: unauthorized };
    record.authenticated = authenticated;
    const impersonation = impersonate(req, authenticated, options.mayImpersonate);
    if ('reject' in impersonation) return { record, reject: impersonation.reject };
    record.effective = impersonation.user;
    return { record, user: impersonation.user };
  };
}
