// Requests the agent refuses before its pipeline runs (the HTTP parser's 400/408/431, a drain's
// 503) still get a scope, so they are audited like any other: whatever is known of them, the
// certificate's identity included when it is valid.
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Clock } from '../lib/core/ports.js';
import { authenticate } from './authenticate.js';
import { type RequestScope, createScope } from './request-scope.js';

export interface DoorRequest {
  method: string;
  url: string;
  upgrade: boolean;
  userAgent: string;
  socket: TLSSocket;
}

/** A scope for a request refused at the door, with the certificate's identity when it is valid. */
export function doorScope(deps: { clock: Clock; newRequestId: () => string }, request: DoorRequest): RequestScope {
  const scope = createScope(
    deps.newRequestId(),
    request.method,
    request.url,
    request.upgrade,
    request.socket.remoteAddress ?? '',
    deps.clock.now(),
    request.userAgent,
  );
  try {
    scope.identity = authenticate(request.socket, scope.startedAt);
  } catch {
    // No certificate, or one the agent does not take: audited without a user.
  }
  return scope;
}

export interface RefusedHead {
  method: string;
  url: string;
  userAgent: string;
}

const NOTHING_READ: RefusedHead = { method: '', url: '', userAgent: '' };

/**
 * The head of each connection's first request, read off its first chunk. A head too large for
 * the parser spans several TLS records, and the parser's error carries only the last one; the
 * first request of a connection is where such a head comes (kubectl sends the same headers each
 * time), so its request line is kept until the connection goes.
 */
const firstHeads = new WeakMap<Duplex, RefusedHead>();

export function rememberFirstHead(socket: Duplex): void {
  socket.once('data', (chunk: Buffer) => {
    const head = readHead(chunk);
    if (head.method) firstHeads.set(socket, head);
  });
}

/** Method, target and User-Agent of a request head the HTTP parser refused; empty where they cannot be read. */
export function refusedHead(raw: Buffer | undefined, socket: Duplex): RefusedHead {
  const fromError = raw ? readHead(raw) : NOTHING_READ;
  if (fromError.method) return fromError;
  return firstHeads.get(socket) ?? NOTHING_READ;
}

function readHead(raw: Buffer): RefusedHead {
  const text = raw.subarray(0, 16 * 1024).toString('latin1');
  const line = /^([A-Z]{1,16}) (\S{1,8192}) HTTP\/1\.[01]\r?$/m.exec(text);
  if (!line) return NOTHING_READ;
  const agent = /^user-agent:[ \t]*([^\r\n]{0,1024})/im.exec(text);
  return { method: line[1]!, url: line[2]!, userAgent: agent?.[1]?.trim() ?? '' };
}
