// Where the browser brings the login back to tsh: an HTTP listener on 127.0.0.1 at a random port,
// for one answer. The redirect URL tsh gives the API names it, with the 32-byte key the result is
// sealed with (`secret_key`). The API replaces the query with `response=`: the sealed result, or a
// sealed {"error"} (Teleport's proxy sends a plain `err=`, which any web page or local account
// could send too). tsh acts only on what opens with its key; anything else aimed at the callback
// gets a 400 page, one line on standard error, and tsh keeps waiting. Other paths get 404.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackAuthority } from '../core/loopback.js';
import { ClientError } from './api-client.js';
import { failurePage, notFromThisLoginPage, successPage } from './callback-page.js';
import type { LoginResponse } from './login.js';
import { NotFromThisLogin, type SealedResult, openSealedResult } from './sealed-login.js';

export interface LoginCallback {
  /** http://127.0.0.1:PORT/callback?secret_key=<64 hex>, for the API. */
  redirectUrl: string;
  /** The login result, or the one-line failure the browser brought back. */
  result: Promise<LoginResponse>;
  /** Stops listening and drops open connections (idempotent). */
  close(): Promise<void>;
}

const SECRET_BYTES = 32;

export interface LoginCallbackOptions {
  /** Told (one line) of each request to the callback that was not from this login. */
  onIgnored?: (line: string) => void;
  /** Injectable for tests; the key is otherwise the system's. */
  random?: (n: number) => Buffer;
}

export const IGNORED_LINE = 'tsh ignored a request to its login callback that was not from this login; still waiting';

/** Starts the listener. */
export async function startLoginCallback(options: LoginCallbackOptions = {}): Promise<LoginCallback> {
  const random = options.random ?? randomBytes;
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
    if (outcome.ignored) options.onIgnored?.(IGNORED_LINE);
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
  /** Aimed at the callback, but not from this login. */
  ignored?: boolean;
}

function handle(request: IncomingMessage, secret: Buffer, secretHex: string, answered: boolean): Outcome {
  const notFound = { status: 404, page: 'not found\n' };
  // A web page reaching this port through a DNS name it controls (rebinding) names that host.
  if (request.method !== 'GET' || !isLoopbackAuthority(request.headers.host ?? '')) return notFound;
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (url.pathname !== '/callback' || answered) return notFound;
  const key = url.searchParams.get('secret_key');
  const sealed = url.searchParams.get('response');
  if (key === null && sealed === null && !url.searchParams.has('err')) return notFound;
  const ignored = { status: 400, page: notFromThisLoginPage(), ignored: true };
  if ((key !== null && !sameKey(key, secret)) || sealed === null) return ignored;
  let opened: SealedResult;
  try {
    opened = openSealedResult(secretHex, sealed);
  } catch (failure) {
    if (failure instanceof NotFromThisLogin) return ignored;
    // Authentic but unusable (no certificate): the API said so; the login ends with that.
    const error = failure instanceof Error ? failure : new Error(String(failure));
    return { status: 400, page: failurePage(error.message), result: { error } };
  }
  if ('login' in opened) return { status: 200, page: successPage(), result: { login: opened.login } };
  const reason = oneLine(opened.error) || 'the login failed without a reason';
  return { status: 200, page: failurePage(reason), result: { error: new ClientError(`GitHub login failed: ${reason}`) } };
}

function sameKey(given: string, secret: Buffer): boolean {
  const bytes = /^[0-9a-f]{64}$/i.test(given) ? Buffer.from(given, 'hex') : Buffer.alloc(0);
  return bytes.length === secret.length && timingSafeEqual(bytes, secret);
}

/** The API's message, made safe to print as one terminal line. */
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
