// One catalog of domain errors. Each edge maps them once, through publicError
// (public-error.ts): to a Kubernetes Status (agent), to JSON {code, message} (HTTP API), to one
// line (CLI).

export type ErrorCode =
  | 'bad_request'
  | 'unauthenticated'
  | 'access_denied'
  | 'not_found'
  | 'conflict'
  | 'request_timeout'
  | 'payload_too_large'
  | 'rate_limited'
  | 'expired'
  | 'invalid_config'
  /** A service Kubeport depends on (GitHub) failed or refused; the message says which and what to do. */
  | 'bad_gateway'
  /** Kubeport itself cannot do what the request needs right now (its audit store is down); retrying later helps. */
  | 'unavailable'
  | 'internal';

const httpStatus: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  access_denied: 403,
  not_found: 404,
  conflict: 409,
  request_timeout: 408,
  payload_too_large: 413,
  rate_limited: 429,
  expired: 401,
  invalid_config: 500,
  bad_gateway: 502,
  unavailable: 503,
  internal: 500,
};

export class KubeportError extends Error {
  readonly code: ErrorCode;
  /** Seconds after which a rate-limited caller may try again. */
  readonly retryAfterSeconds?: number;
  /** Each problem on its own, for clients that show them with more context (tctl create: line numbers). */
  readonly details?: unknown[];

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfterSeconds?: number; details?: unknown[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KubeportError';
    this.code = code;
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
    if (options?.details !== undefined) this.details = options.details;
  }

  get httpStatus(): number {
    return httpStatus[this.code];
  }
}

export const badRequest = (message: string) => new KubeportError('bad_request', message);
export const unauthenticated = (message: string) => new KubeportError('unauthenticated', message);
export const accessDenied = (message: string) => new KubeportError('access_denied', message);
export const notFound = (message: string) => new KubeportError('not_found', message);

/** A recording larger than a reader holds in memory at once: refused before any part is read. */
export class RecordingTooLargeError extends KubeportError {
  constructor(
    readonly sessionId: string,
    readonly bytes: number,
    readonly maxBytes: number,
    where: string,
  ) {
    super(
      'payload_too_large',
      `session ${sessionId}'s recording is ${bytes} bytes, more than the ${maxBytes} bytes Kubeport plays back; ` +
        `copy its parts from ${where} and join them in order into a .cast file (asciinema plays it)`,
    );
  }
}

export class ConflictError extends KubeportError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/**
 * GitHub refused the OAuth app's client_id or client_secret (incorrect_client_credentials). Its own
 * type because a secret read from the deployment may just have been rotated: one fresh read and a
 * retry fixes that.
 */
export class GitHubClientRefusedError extends KubeportError {
  constructor(message: string) {
    super('bad_gateway', message);
  }
}
