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
  /** The parser refused a head whose request line could not be read as this request's own. */
  unreadable?: true;
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
  if (request.unreadable) scope.headUnreadable = true;
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
  /** The refused request's own head could not be read: method and target are left empty rather than guessed. */
  unreadable?: true;
}

const UNREADABLE: RefusedHead = { method: '', url: '', userAgent: '', unreadable: true };

/**
 * The head of each connection's first request, read off its first chunk. A head too large for
 * the parser spans several TLS records, and the parser's error carries only the last one; the
 * first request of a connection is where such a head comes (kubectl sends the same headers each
 * time), so its request line is kept until the connection goes. It names a refused request only
 * when that request is the first: a later one must never be recorded under the first one's verb and path.
 */
const firstHeads = new WeakMap<Duplex, RefusedHead>();
/** Requests whose head the parser read whole, per connection: the one it refuses comes after them. */
const headsRead = new WeakMap<Duplex, number>();

export function rememberFirstHead(socket: Duplex): void {
  socket.once('data', (chunk: Buffer) => {
    const head = readHead(chunk, chunk.length);
    if (head.method) firstHeads.set(socket, head);
  });
}

/** Counts a request the parser read whole (every request, upgrade or Expect the server is handed). */
export function countHead(socket: Duplex): void {
  headsRead.set(socket, (headsRead.get(socket) ?? 0) + 1);
}

/** Parser errors raised in the request line itself: the last request line before them is another request's. */
const REQUEST_LINE_ERRORS = new Set(['HPE_INVALID_METHOD', 'HPE_INVALID_URL', 'HPE_INVALID_VERSION', 'HPE_INVALID_CONSTANT']);

/**
 * Method, target and User-Agent of a request head the HTTP parser refused, or `unreadable` when
 * they cannot be told apart from another request's. The chunk the parser failed on may also hold
 * earlier pipelined requests, so only the last request line before the failure is taken, and
 * only when the failure came after that line.
 */
export function refusedHead(error: { rawPacket?: Buffer; bytesParsed?: number; code?: string }, socket: Duplex): RefusedHead {
  const first = (headsRead.get(socket) ?? 0) === 0;
  const raw = error.rawPacket;
  if (raw && (first || !REQUEST_LINE_ERRORS.has(error.code ?? ''))) {
    const fromError = readHead(raw, error.bytesParsed ?? raw.length);
    if (fromError.method) return fromError;
  }
  return (first ? firstHeads.get(socket) : undefined) ?? UNREADABLE;
}

const REQUEST_LINE = /^([A-Z]{1,16}) (\S{1,8192}) HTTP\/1\.[01]\r?$/gm;

/** The last request head that starts before `end`. */
function readHead(raw: Buffer, end: number): RefusedHead {
  // A window is enough: a head is at most maxHeaderBytes, and what lies before the window is earlier requests.
  const text = raw.subarray(Math.max(0, end - 64 * 1024), end).toString('latin1');
  const line = [...text.matchAll(REQUEST_LINE)].at(-1);
  if (!line) return UNREADABLE;
  const rest = text.slice(line.index! + line[0].length);
  const agent = /^user-agent:[ \t]*([^\r\n]{0,1024})/im.exec(rest.split(/\r?\n\r?\n/, 1)[0]!);
  return { method: line[1]!, url: line[2]!, userAgent: agent?.[1]?.trim() ?? '' };
}
