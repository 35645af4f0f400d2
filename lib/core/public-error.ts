// The one rule for what a client may learn from an error, used by every edge (HTTP API, agent,
// CLI). A KubeportError names its cause and fix and is shown as it is; anything else (a bug, a
// failing dependency, a misconfigured server) is shown only as 'internal' with a generic
// message, and its detail, stack included, goes to the log and nowhere else.
import { type ErrorCode, KubeportError } from './errors.js';

export interface PublicError {
  code: ErrorCode;
  httpStatus: number;
  message: string;
  /** Set for rate_limited: when the caller may try again. */
  retryAfterSeconds?: number;
  /** The problems one by one, when the error lists several. */
  details?: unknown[];
}

export const INTERNAL_ERROR_MESSAGE = 'internal error; the server log has the details';

/** Codes whose message is about the server, not the caller, so they are never shown. */
const HIDDEN: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['internal', 'invalid_config']);

export function publicError(error: unknown, internalMessage = INTERNAL_ERROR_MESSAGE): PublicError {
  if (error instanceof KubeportError && !HIDDEN.has(error.code)) {
    return {
      code: error.code,
      httpStatus: error.httpStatus,
      message: error.message,
      ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
      ...(error.details !== undefined ? { details: error.details } : {}),
    };
  }
  return { code: 'internal', httpStatus: 500, message: internalMessage };
}

/** The detail an operator needs: the stack when there is one (never sent to a client). */
export function errorDetail(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

export interface HttpErrorResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The JSON answer of Kubeport's HTTP API to any error: {"error": {code, message}}, with
 * Retry-After when the caller is rate-limited. Hidden errors are logged here, once.
 */
export function httpErrorResponse(error: unknown, log: (message: string) => void): HttpErrorResponse {
  const shown = publicError(error);
  if (shown.code === 'internal') log(`internal error: ${errorDetail(error)}`);
  return {
    statusCode: shown.httpStatus,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      ...(shown.retryAfterSeconds !== undefined ? { 'retry-after': String(shown.retryAfterSeconds) } : {}),
    },
    body: JSON.stringify({
      error: { code: shown.code, message: shown.message, ...(shown.details !== undefined ? { details: shown.details } : {}) },
    }),
  };
}
