// Errors toward kubectl are Kubernetes Status objects, so kubectl prints them as
// "Error from server (Forbidden): ..." or "You must be logged in to the server (...)".
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { KubeportError } from '../lib/core/errors.js';

const reasons: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'ServiceUnavailable',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export interface KubeStatus {
  code: number;
  body: string;
}

export function kubeStatus(code: number, message: string): KubeStatus {
  return {
    code,
    body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: reasons[code] ?? 'Unknown', code }),
  };
}

export function statusFromError(error: unknown, log: (message: string) => void): KubeStatus {
  if (error instanceof KubeportError && error.code !== 'internal' && error.code !== 'invalid_config') {
    return kubeStatus(error.httpStatus, error.message);
  }
  log(`agent internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return kubeStatus(500, 'Kubeport agent internal error; its log has the details');
}

export function sendStatus(res: ServerResponse, status: KubeStatus): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(status.body) });
  res.end(status.body);
}

/** For upgrade requests, which have a bare socket instead of a response object. */
export function sendStatusOnSocket(socket: Duplex, status: KubeStatus): void {
  const text = `HTTP/1.1 ${status.code} ${reasons[status.code] ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(status.body)}\r\nconnection: close\r\n\r\n${status.body}`;
  socket.end(text);
}
