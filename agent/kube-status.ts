// Errors toward kubectl are Kubernetes Status objects, so kubectl prints them as
// "Error from server (Forbidden): ..." or "You must be logged in to the server (...)".
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorDetail, publicError } from '../lib/core/public-error.js';
import { type ForbiddenDetails, KubeForbiddenError } from './kube-forbidden.js';

const reasons: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  408: 'Timeout',
  413: 'RequestEntityTooLarge',
  429: 'TooManyRequests',
  // Kubernetes has no reason of its own for 431; kubectl prints this one as it is.
  431: 'RequestHeaderFieldsTooLarge',
  500: 'InternalError',
  502: 'ServiceUnavailable',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export interface KubeStatus {
  code: number;
  message: string;
  body: string;
  /** Sent as Retry-After (429). */
  retryAfterSeconds?: number;
}

export function kubeStatus(code: number, message: string, retryAfterSeconds?: number, forbidden?: ForbiddenDetails): KubeStatus {
  const fields = { ...forbidden, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
  const details = Object.keys(fields).length === 0 ? {} : { details: fields };
  return {
    code,
    message,
    body: JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason: reasons[code] ?? 'Unknown',
      ...details,
      code,
    }),
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  };
}

export function statusFromError(error: unknown, log: (message: string) => void): KubeStatus {
  const shown = publicError(error, 'Kubeport agent internal error; its log has the details');
  if (shown.code === 'internal') log(`agent internal error: ${errorDetail(error)}`);
  const details = error instanceof KubeForbiddenError ? error.statusDetails : undefined;
  return kubeStatus(shown.httpStatus, shown.message, shown.retryAfterSeconds, details);
}

/**
 * kubectl's discovery client cannot decode a Status body and prints "unknown" instead of its
 * message; a text body is printed as it is. So discovery requests get the message as text.
 */
export function isDiscoveryRequest(method: string | undefined, target: string | undefined): boolean {
  if (method !== 'GET' || !target) return false;
  const path = target.split('?')[0]!.replace(/^\/k8s\/[^/]+/, '');
  return /^\/(api|apis)(\/[^/]+){0,2}\/?$/.test(path) && !/^\/api\/v1\/./.test(path);
}

/**
 * The status to send a discovery request, whose body goes as text (sendStatus asText). kubectl
 * prints that text only for 403 and for 5xx codes it has no sentence of its own for: for 503 and
 * 504 it prints its own ("the server is currently unable to handle the request") and drops the
 * agent's, which says what is wrong and what to do. Those go as 502, which kubectl prints as
 * `an error on the server ("<message>") has prevented the request from succeeding`.
 */
export function discoveryStatus(status: KubeStatus): KubeStatus {
  return status.code === 503 || status.code === 504 ? kubeStatus(502, status.message, status.retryAfterSeconds) : status;
}

export function sendStatus(
  res: ServerResponse,
  status: KubeStatus,
  options: { asText?: boolean; close?: boolean; auditId?: string } = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = options.asText ? `${status.message}\n` : status.body;
  res.writeHead(status.code, {
    'content-type': options.asText ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(options.auditId ? { 'audit-id': options.auditId } : {}),
    ...(status.retryAfterSeconds === undefined ? {} : { 'retry-after': String(status.retryAfterSeconds) }),
    ...(options.close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

/** Time a client has to read a refusal on a bare socket and close; then it is dropped. */
export const REFUSAL_GRACE_MS = 2_000;

/**
 * For upgrade requests, which have a bare socket instead of a response object. Such a socket is
 * out of the HTTP server's timeouts, so it is destroyed after REFUSAL_GRACE_MS: a client that
 * never reads or closes must not hold a connection slot (or a drain) forever.
 */
export function sendStatusOnSocket(socket: Duplex, status: KubeStatus, auditId?: string): void {
  const extra = `${auditId ? `audit-id: ${auditId}\r\n` : ''}${status.retryAfterSeconds === undefined ? '' : `retry-after: ${status.retryAfterSeconds}\r\n`}`;
  const text = `HTTP/1.1 ${status.code} ${reasons[status.code] ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(status.body)}\r\n${extra}connection: close\r\n\r\n${status.body}`;
  socket.end(text);
  setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
}
