// What crosses the agent, header by header. Upstream headers come from an allow-list over the
// client's raw headers (case-insensitive); identity headers are the agent's alone.
import { accessDenied, badRequest } from '../lib/core/errors.js';
import type { ImpersonationRequest, KubePrincipals } from '../lib/core/kube-access.js';

/** Client headers that pass to the API server unchanged. */
const PASSED = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'content-type',
  'content-encoding',
  'user-agent',
  'kubectl-command',
  'kubectl-session',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'x-stream-protocol-version',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);

export interface ClientHeaders {
  impersonation: ImpersonationRequest;
  contentLength?: number;
  chunked: boolean;
  upgrade?: string;
}

/** Reads the client's raw headers once; refuses ambiguous framing and identity headers it cannot honour. */
export function scanClientHeaders(rawHeaders: string[]): ClientHeaders {
  const users: string[] = [];
  const groups: string[] = [];
  const lengths: string[] = [];
  let transferEncoding: string | undefined;
  let upgrade: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (name === 'content-length') lengths.push(value);
    else if (name === 'transfer-encoding') {
      if (transferEncoding !== undefined) throw badRequest('more than one Transfer-Encoding header');
      transferEncoding = value.trim().toLowerCase();
    } else if (name === 'upgrade') upgrade = value;
    else if (name.startsWith('impersonate-')) {
      if (name === 'impersonate-user') users.push(value);
      else if (name === 'impersonate-group') groups.push(value);
      else throw accessDenied(`impersonation request has been denied, unsupported impersonation header ${rawHeaders[i]}`);
    }
  }
  if (lengths.length > 1) throw badRequest('more than one Content-Length header');
  if (lengths.length === 1 && transferEncoding !== undefined) throw badRequest('both Content-Length and Transfer-Encoding are set');
  if (transferEncoding !== undefined && transferEncoding !== 'chunked')
    throw badRequest(`unsupported Transfer-Encoding ${transferEncoding}`);
  let contentLength: number | undefined;
  if (lengths.length === 1) {
    if (!/^\d{1,15}$/.test(lengths[0]!.trim())) throw badRequest('Content-Length is not a number');
    contentLength = Number(lengths[0]!.trim());
  }
  // How many Impersonate-User values may be sent is resolveImpersonation's rule (lib/core/kube-access.ts).
  return {
    impersonation: { users, groups },
    ...(contentLength !== undefined ? { contentLength } : {}),
    chunked: transferEncoding === 'chunked',
    ...(upgrade !== undefined ? { upgrade } : {}),
  };
}

export interface UpstreamHeaderInput {
  rawHeaders: string[];
  /** The agent's id for this request; the client's own Audit-ID never passes. */
  auditId: string;
  client: ClientHeaders;
  principals: KubePrincipals;
  bearerToken?: string;
  forwardedFor: string;
  forwardedHost: string;
}

export function upstreamHeaders(input: UpstreamHeaderInput): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < input.rawHeaders.length; i += 2) {
    const name = input.rawHeaders[i]!.toLowerCase();
    if (!PASSED.has(name)) continue;
    const value = input.rawHeaders[i + 1]!;
    const existing = headers[name];
    headers[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  // Host and chunked framing are the HTTP client's to set toward the cluster.
  if (input.client.contentLength !== undefined) headers['content-length'] = String(input.client.contentLength);
  if (input.client.upgrade !== undefined) {
    headers.connection = 'Upgrade';
    headers.upgrade = input.client.upgrade;
  }
  if (input.bearerToken) headers.authorization = `Bearer ${input.bearerToken}`;
  headers['impersonate-user'] = input.principals.users[0]!;
  headers['impersonate-group'] = input.principals.groups;
  headers['x-forwarded-for'] = input.forwardedFor;
  headers['x-forwarded-host'] = input.forwardedHost;
  headers['x-forwarded-proto'] = 'https';
  headers['audit-id'] = input.auditId;
  return headers;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

/**
 * Response headers toward the client (names lowercased): everything but hop-by-hop ones, and
 * Audit-Id set to the agent's id for the request, as the API server names the id it logged.
 */
export function clientResponseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  auditId: string,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers['audit-id'] = auditId;
  return headers;
}
