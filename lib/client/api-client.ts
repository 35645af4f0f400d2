// tsh and tctl talk to the auth and admin API through this: JSON over HTTPS (plain HTTP only to a
// loopback proxy), errors turned into one line, calls signed with the user's certificate key.
import { X509Certificate, randomBytes } from 'node:crypto';
import { type ErrorCode, KubeportError } from '../core/errors.js';
import { isLoopbackHost } from '../core/loopback.js';
import type { Clock } from '../core/ports.js';
import { SIGNED_REQUEST_HEADER, SIGNED_REQUEST_LIFETIME_S, bodyDigest } from '../core/signed-request.js';

const codeForStatus: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'access_denied',
  404: 'not_found',
  409: 'conflict',
  429: 'rate_limited',
};

/** The proxy refused, could not be reached, or answered something tsh cannot trust: the user's to fix. */
export class ClientError extends KubeportError {
  constructor(
    message: string,
    readonly status?: number,
    /** The code the proxy answered with, when it did. */
    readonly serverCode?: string,
    /** The problems one by one, when the proxy listed several. */
    readonly problems?: unknown[],
  ) {
    super((status !== undefined && codeForStatus[status]) || 'bad_request', message);
    this.name = 'ClientError';
  }
}

export interface SigningIdentity {
  certPem: string;
  keyPem: string;
}

/** A call about to be sent: what a RequestSigner signs and may change (headers, the URL's form). */
export interface OutgoingRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Signs calls another way than with a Kubeport certificate: tctl --aws-iam signs with SigV4. */
export interface RequestSigner {
  sign(request: OutgoingRequest): Promise<OutgoingRequest>;
}

/** How a call proves who makes it: a Kubeport certificate, or another signer. */
export type CallAuth = SigningIdentity | RequestSigner;

const isRequestSigner = (auth: CallAuth): auth is RequestSigner => 'sign' in auth;

export function proxyBaseUrl(proxy: string): string {
  if (/^https?:\/\//.test(proxy)) return proxy.replace(/\/$/, '');
  const host = proxy.replace(/:\d+$/, '');
  return `${isLoopbackHost(host) ? 'http' : 'https'}://${proxy}`;
}

export class ApiClient {
  constructor(
    private readonly proxy: string,
    private readonly audience?: string,
    private readonly clock: Clock = { now: () => new Date() },
  ) {}

  async call<T>(method: string, path: string, body?: unknown, identity?: CallAuth): Promise<T> {
    const { response, raw, url } = await this.send(method, path, body, identity);
    const parsed = parseJson(raw, response, url);
    if (!response.ok) throw answerError(parsed, response);
    return parsed as T;
  }

  /** A call whose answer is not JSON (a recording): its text on success, the proxy's error otherwise. */
  async text(method: string, path: string, identity?: CallAuth): Promise<string> {
    const { response, raw, url } = await this.send(method, path, undefined, identity);
    if (!response.ok) throw answerError(parseJson(raw, response, url), response);
    return raw;
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    identity: CallAuth | undefined,
  ): Promise<{ response: Response; raw: string; url: string }> {
    const text = body === undefined ? '' : JSON.stringify(body);
    let headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let url = `${proxyBaseUrl(this.proxy)}${path}`;
    if (identity && isRequestSigner(identity)) {
      ({ url, headers } = await identity.sign({ method, url, headers, body: text }));
    } else if (identity) {
      if (!this.audience) throw new ClientError('internal: signed call without an audience');
      headers[SIGNED_REQUEST_HEADER] = await signRequest(identity, { audience: this.audience, method, path, body: text }, this.clock.now());
    }
    let response: Response;
    try {
      response = await fetch(url, { method, headers, ...(body !== undefined ? { body: text } : {}) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new ClientError(
        `cannot reach the Kubeport proxy at ${proxyBaseUrl(this.proxy)} (${cause}); is it running, and is --proxy right?`,
      );
    }
    return { response, raw: await response.text(), url };
  }
}

function parseJson(raw: string, response: Response, url: string): unknown {
  try {
    return raw === '' ? {} : JSON.parse(raw);
  } catch {
    throw new ClientError(
      `the proxy at ${url} answered ${response.status} with something that is not JSON; is --proxy the Kubeport API address?`,
      response.status,
    );
  }
}

function answerError(parsed: unknown, response: Response): ClientError {
  const error = (parsed as { error?: { code?: string; message?: string; details?: unknown[] } }).error;
  // API Gateway's own refusals (before any function runs) are {"message": "..."}.
  const gatewayMessage = (parsed as { message?: unknown }).message;
  const retry = response.headers.get('retry-after');
  return new ClientError(
    error?.message ??
      (typeof gatewayMessage === 'string' ? gatewayMessage : undefined) ??
      `the proxy answered ${response.status}${retry ? `; retry in ${retry} s` : ''}`,
    response.status,
    error?.code,
    Array.isArray(error?.details) ? error.details : undefined,
  );
}

async function signRequest(
  identity: SigningIdentity,
  request: { audience: string; method: string; path: string; body: string },
  at: Date,
): Promise<string> {
  const now = Math.floor(at.getTime() / 1000);
  const claims = {
    aud: request.audience,
    method: request.method.toUpperCase(),
    path: request.path,
    body_sha256: bodyDigest(request.body),
    iat: now,
    exp: now + SIGNED_REQUEST_LIFETIME_S,
    jti: randomBytes(16).toString('hex'),
  };
  const der = new X509Certificate(identity.certPem).raw.toString('base64');
  // Loaded on first use: most tsh runs never sign, and jose is the slowest module to load.
  const { CompactSign, importPKCS8 } = await import('jose');
  const key = await importPKCS8(identity.keyPem, 'ES256');
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ alg: 'ES256', x5c: [der] }).sign(key);
}
