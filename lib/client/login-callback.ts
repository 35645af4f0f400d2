// Where the browser brings the login back to tsh: an HTTP listener on 127.0.0.1 at a random port,
// for one answer. The redirect URL tsh gives the API names it, with the 32-byte key the result is
// sealed with (`secret_key`). The API replaces the query with `response=` (the sealed result) or
// `err=` (one line), as Teleport's proxy does; a `secret_key` in the callback, when a server
// keeps it, must be ours. Anything else on this port gets 404 and changes nothing.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackAuthority } from '../core/loopback.js';
import { ClientError } from './api-client.js';
import { failurePage, successPage, wrongKeyPage } from './callback-page.js';
import type { LoginResponse } from './login.js';
import { openSealedLogin } from './sealed-login.js';

export interface LoginCallback {
  /** http://127.0.0.1:PORT/callback?secret_key=<64 hex>, for the API. */
  redirectUrl: string;
  /** The login result, or the one-line failure the browser brought back. */
  result: Promise<LoginResponse>;
  /** Stops listening and drops open connections (idempotent). */
  close(): Promise<void>;
}

const SECRET_BYTES = 32;

/** Starts the listener; `random` is injectable for tests, the key is otherwise the system's. */
export async function startLoginCallback(random: (n: number) => Buffer = randomBytes): Promise<LoginCallback> {
  const secret = random(SECRET_BYTES);
  const secretHex = secret.toString('hex');
  let settle: { resolve(login: LoginResponse): void; reject(error: Error): void } | undefined;
  const result = new Promise<LoginResponse>((resolve, reject) => (settle = { resolve, reject }));
  // A caller that closes before any answer must not see an unhandled rejection.
  result.catch(() => undefined);
  let answered = false;

  const server: Server = createServer((request, response) => {
    const outcome = handle(request, secret, secretHex, answered);
    send(response, outcome.status, outcome.page);
    const settled = outcome.result;
    if (!settled) return;
    answered = true;
    // The page is on its way before tsh goes on (and perhaps exits).
    response.on('close', () => {
      if ('login' in settled) settle!.resolve(settled.login);
      else settle!.reject(settled.error);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    redirectUrl: `http://127.0.0.1:${port}/callback?secret_key=${secretHex}`,
    result,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

interface Outcome {
  status: number;
  page: string;
  result?: { login: LoginResponse } | { error: Error };
}

function handle(request: IncomingMessage, secret: Buffer, secretHex: string, answered: boolean): Outcome {
  const notFound = { status: 404, page: 'not found\n' };
  // A web page reaching this port through a DNS name it controls (rebinding) names that host.
  if (request.method !== 'GET' || !isLoopbackAuthority(request.headers.host ?? '')) return notFound;
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (url.pathname !== '/callback' || answered) return notFound;
  const key = url.searchParams.get('secret_key');
  if (key !== null && !sameKey(key, secret)) return { status: 400, page: wrongKeyPage() };
  const error = url.searchParams.get('err');
  const sealed = url.searchParams.get('response');
  if (error !== null) {
    const reason = oneLine(error) || 'the login failed without a reason';
    return { status: 200, page: failurePage(reason), result: { error: new ClientError(`GitHub login failed: ${reason}`) } };
  }
  if (sealed === null) return notFound;
  try {
    return { status: 200, page: successPage(), result: { login: openSealedLogin(secretHex, sealed) } };
  } catch (failure) {
    const error = failure instanceof Error ? failure : new Error(String(failure));
    return { status: 400, page: failurePage(error.message), result: { error } };
  }
}

function sameKey(given: string, secret: Buffer): boolean {
  const bytes = /^[0-9a-f]{64}$/i.test(given) ? Buffer.from(given, 'hex') : Buffer.alloc(0);
  return bytes.length === secret.length && timingSafeEqual(bytes, secret);
}

/** A message from the browser's address bar, made safe to print as one terminal line. */
function oneLine(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .trim()
    .slice(0, 500);
}

function send(response: ServerResponse, status: number, page: string): void {
  response.writeHead(status, {
    'content-type': page.startsWith('<!doctype') ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  });
  response.end(page);
}
