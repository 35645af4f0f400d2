// Carries a request to the cluster and the answer back, streaming both ways: no buffering of
// watch or logs (upgrades are forwarded by forward-upgrade.ts).
// Whatever is forwarded lives only as long as its StreamLifetimes entry allows.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { clientResponseHeaders } from './request-headers.js';
import { kubeStatus, sendStatus } from './kube-status.js';
import { endingStatus, watchErrorEvent } from './stream-ending.js';
import { StreamResponse } from './stream-response.js';
import type { ConcurrencyPerIdentity } from './identity-concurrency.js';
import { type RequestScope, elapsedMs, finishScope } from './request-scope.js';
import type { Sessions } from './sessions.js';
import type { StreamLifetimes } from './stream-lifetime.js';
import { KEEPALIVE_MS, type UpstreamPools, upstreamPath } from './upstream-pools.js';

/** What the steps before forwarding decided; the scope carries identity, cluster and principals. */
export interface UpstreamRequest {
  scope: RequestScope;
  /** Path and query below the cluster's server URL. */
  pathAndQuery: string;
  headers: Record<string, string | string[]>;
  /** Read whole already, streamed (proxy bodies), or none. */
  body: Buffer | Readable | null;
}

export interface ForwardDeps {
  pools: UpstreamPools;
  lifetimes: StreamLifetimes;
  /** Ordinary requests in flight on the shared pool, per user. */
  concurrency: ConcurrencyPerIdentity;
  /** Streams (watches, followed logs, streamed bodies) and upgrades open, per user. */
  streamConcurrency: ConcurrencyPerIdentity;
  /** Time the API server has to answer an upgrade, a whole non-101 answer included. */
  upgradeAnswerTimeoutMs: number;
  onFinish?: (scope: RequestScope) => void;
  log: (message: string) => void;
  /** Exec, attach and port-forward sessions: read, recorded and audited. None: only relayed. */
  sessions?: Sessions;
}

const unreachable = (scope: RequestScope, message: string) =>
  kubeStatus(502, `cannot reach the API server of cluster "${scope.cluster!.name}": ${message}`);

/** Throws (429) before anything is sent when the user already holds their share of the pool (or of streams, for a stream). */
export function forwardRequest(deps: ForwardDeps, req: IncomingMessage, res: ServerResponse, upstream: UpstreamRequest): void {
  const { scope } = upstream;
  const cluster = scope.cluster!;
  const user = scope.identity!.username;
  const connections = deps.pools.forCluster(cluster);
  const shared = !scope.streaming;
  const slots = shared ? deps.concurrency : deps.streamConcurrency;
  // The client left while its request was being authorized: its close went unheard, so nothing
  // may be taken for it (a slot taken now would never be given back).
  if (req.socket.destroyed) {
    finishScope(scope, { status: 0, ended: 'client closed' }, deps.onFinish, deps.log);
    return;
  }
  slots.admit(user, shared ? undefined : scope.streamLimit);
  /** Gives back what the request holds; the first call (the end of the response, or its ending) wins. */
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    deps.lifetimes.release(tracked);
    slots.release(user);
  };
  // undici takes an emitter as its abort signal; it costs much less per request than an
  // AbortController. A client that goes away (an ended watch, a killed kubectl) cancels upstream.
  const abort = new EventEmitter();
  let aborted = false;
  const stopUpstream = () => {
    aborted = true;
    abort.emit('abort');
  };
  /** The body of a stream, relayed through a writer that can end it with a message. */
  let body: StreamResponse | undefined;
  const tracked = deps.lifetimes.track(scope, (reason, message) => {
    release();
    const said = endingStatus(reason, message);
    finishScope(scope, { status: res.headersSent ? res.statusCode : 0, ended: reason, message: said.message }, deps.onFinish, deps.log);
    if (body) {
      // A watch gets an ERROR event with the Status after its last whole event; other bodies end.
      body.endWith(watchErrorEvent(said));
    } else if (!res.headersSent) {
      stopUpstream();
      sendStatus(res, said, { auditId: scope.id, close: true });
    } else {
      res.destroy();
    }
  });
  res.on('close', () => {
    release();
    const answered = res.writableFinished;
    if (!answered) {
      aborted = true;
      abort.emit('abort');
    }
    finishScope(
      scope,
      { status: res.headersSent ? res.statusCode : 0, ended: answered ? 'answered' : 'client closed' },
      deps.onFinish,
      deps.log,
    );
  });
  if (scope.streaming) {
    // A quiet watch is not idle: TCP keepalives hold it open; the certificate's end, or a
    // revocation found by the lifetime sweep, closes it.
    res.socket?.setTimeout(0);
    res.socket?.setKeepAlive(true, KEEPALIVE_MS);
  }
  (shared ? connections.pool : connections.streams)
    .stream(
      {
        path: upstreamPath(cluster, upstream.pathAndQuery),
        method: scope.method as 'GET',
        headers: upstream.headers,
        body: upstream.body,
        signal: abort,
      },
      ({ statusCode, headers }) => {
        scope.timings.upstreamHeadersMs = elapsedMs(scope);
        const outgoing = clientResponseHeaders(headers as Record<string, string | string[]>, scope.id);
        res.writeHead(statusCode, outgoing);
        // A body of unknown length is a stream (watch, logs -f, a proxied stream): its headers go out at once.
        if (outgoing['content-length'] === undefined) res.flushHeaders();
        if (!scope.streaming) return res;
        return (body = new StreamResponse(res, String(headers['content-type'] ?? ''), scope.request?.verb === 'watch', stopUpstream));
      },
    )
    .catch((error: Error) => {
      if (aborted) return;
      deps.log(`upstream ${cluster.name}: ${error.message}`);
      if (res.headersSent) {
        finishScope(scope, { status: res.statusCode, ended: 'upstream failed', message: error.message }, deps.onFinish, deps.log);
        res.destroy();
      } else {
        const status =
          'status' in error && typeof error.status === 'number'
            ? kubeStatus(error.status, error.message)
            : unreachable(scope, error.message);
        finishScope(scope, { status: status.code, ended: 'upstream failed', message: status.message }, deps.onFinish, deps.log);
        sendStatus(res, status, { auditId: scope.id, close: upstream.body !== null && !Buffer.isBuffer(upstream.body) });
      }
    });
  if (upstream.body === null) req.resume();
}
