// The agent's work on one request, in order, over one RequestScope:
// authenticate → authorize → rewrite (headers, body) → forward → finish.
// Plain requests and upgrades share every step but the last transport.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { badRequest } from '../lib/core/errors.js';
import { type KubeRequestInfo, kubeRequestInfo } from '../lib/core/kube-request-info.js';
import { clusterNotFound } from '../lib/core/kube-access.js';
import type { Clock, ClusterHealthView, UpstreamCluster } from '../lib/core/ports.js';
import { parseKubeTarget } from '../lib/core/request-target.js';
import { authenticate } from './authenticate.js';
import { type AuthorizeDeps, authorize } from './authorize.js';
import { type ForwardDeps, type UpstreamRequest, forwardRequest } from './forward.js';
import { forwardUpgrade } from './forward-upgrade.js';
import { discoveryStatus, isDiscoveryRequest, sendStatus, sendStatusOnSocket, statusFromError } from './kube-status.js';
import { type BodyLimits, discardBodyThen, readBody, streamBody } from './request-body.js';
import { scanClientHeaders, upstreamHeaders } from './request-headers.js';
import { type RequestScope, createScope, elapsedMs, finishScope } from './request-scope.js';
import { answerForRoles, isSelfAccessReview } from './self-access-review.js';
import { refuseUnhealthyCluster } from './unhealthy-cluster.js';

export interface PipelineDeps extends AuthorizeDeps, ForwardDeps {
  clock: Clock;
  body: BodyLimits;
  newRequestId: () => string;
  /** The agent's own last health of each cluster; an unhealthy one is refused at once. */
  clusterHealth?: ClusterHealthView;
}

/** A request on its way upstream, or one the agent answers itself (a SelfSubjectAccessReview the roles answer "no"). */
type Prepared = UpstreamRequest & { answer?: Buffer };

/** Refusals after which the connection closes: bad credentials, and bodies left unread on purpose. */
const CLOSES_CONNECTION = new Set([401, 408, 413]);

export function handleRequest(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse): void {
  const scope = scopeFor(deps, req, false);
  prepare(deps, scope, req, false)
    .then((prepared) => (prepared.answer ? answerHere(deps, scope, res, prepared.answer) : forwardRequest(deps, req, res, prepared)))
    .catch((error: unknown) => {
      const asText = isDiscoveryRequest(req.method, req.url);
      const said = statusFromError(error, deps.log);
      const status = asText ? discoveryStatus(said) : said;
      const close = CLOSES_CONNECTION.has(status.code);
      if (!close) req.resume();
      finishScope(scope, { status: status.code, ended: 'answered', message: status.message }, deps.onFinish, deps.log);
      const answer = () => sendStatus(res, status, { asText, close, auditId: scope.id });
      // A client still sending its body must be able to read the 413 (see discardBodyThen).
      if (status.code === 413) discardBodyThen(req, deps.body, answer);
      else answer();
    });
}

export function handleUpgrade(deps: PipelineDeps, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const scope = scopeFor(deps, req, true);
  prepare(deps, scope, req, true)
    .then((upstream) => forwardUpgrade(deps, socket, head, upstream))
    .catch((error: unknown) => {
      const status = statusFromError(error, deps.log);
      finishScope(scope, { status: status.code, ended: 'answered', message: status.message }, deps.onFinish, deps.log);
      sendStatusOnSocket(socket, status, scope.id);
    });
}

function answerHere(deps: PipelineDeps, scope: RequestScope, res: ServerResponse, body: Buffer): void {
  res.writeHead(201, { 'content-type': 'application/json', 'content-length': body.length, 'audit-id': scope.id });
  res.end(body);
  finishScope(scope, { status: 201, ended: 'answered' }, deps.onFinish, deps.log);
}

/** The request's one scope, created at the door. */
function scopeFor(deps: PipelineDeps, req: IncomingMessage, isUpgrade: boolean): RequestScope {
  return createScope(
    deps.newRequestId(),
    req.method ?? 'GET',
    req.url ?? '',
    isUpgrade,
    req.socket.remoteAddress ?? '',
    deps.clock.now(),
    req.headers['user-agent'] ?? '',
  );
}

/** Authorizes the scope's request again as things are now (open streams, every few seconds). */
export function reauthorize(deps: AuthorizeDeps, scope: RequestScope): Promise<unknown> {
  return authorize(deps, scope.identity!, scope.target!.cluster, scope.impersonation!, scope.request!);
}

/** The authorized cluster's upstream; gone since the decision (or no address here): not found, as an unknown one. */
async function resolveUpstream(deps: AuthorizeDeps, name: string): Promise<UpstreamCluster> {
  const cluster = await deps.clusters.resolve(name);
  if (!cluster) throw clusterNotFound(name);
  return cluster;
}

async function prepare(deps: PipelineDeps, scope: RequestScope, req: IncomingMessage, isUpgrade: boolean): Promise<Prepared> {
  // authenticate
  const identity = (scope.identity = authenticate(req.socket as TLSSocket, scope.startedAt));
  const target = (scope.target = parseKubeTarget(scope.url));
  // Read from the very path and query that are forwarded, so the check and the cluster agree.
  const request = (scope.request = kubeRequestInfo(scope.method, target.path, new URLSearchParams(target.query)));
  // RFC 9112 §3.2: an HTTP/1.1 request without Host is refused (the server leaves this to the
  // pipeline, so the refusal is a Status and an event).
  if (req.httpVersion === '1.1' && req.headers.host === undefined) {
    throw badRequest(
      'the request has no Host header, which HTTP/1.1 requires; send it (kubectl always does), or check the proxy in between',
    );
  }
  const scanned = scanClientHeaders(req.rawHeaders);
  // An Upgrade header on a request Node did not treat as an upgrade is not one.
  const client = isUpgrade ? scanned : { ...scanned, upgrade: undefined };
  scope.impersonation = client.impersonation;
  // Only exec, attach, port-forward and proxies speak upgraded protocols; anywhere else an
  // Upgrade would take a request off the ordinary route (and its limits) for nothing.
  if (isUpgrade && !isUpgradeTarget(request)) {
    throw badRequest(
      `${target.path} does not take an upgrade (only pods/…/exec, attach, portforward and …/proxy do); send the request without Connection: Upgrade`,
    );
  }
  // authorize
  // authorize: checked before anything, an upgrade included, goes to the cluster
  const decision = await authorize(deps, identity, target.cluster, client.impersonation, request);
  scope.registered = decision.cluster;
  scope.principals = decision.principals;
  scope.lockMode = decision.lockMode;
  scope.auditMode = decision.auditMode;
  if (decision.streamLimit) scope.streamLimit = decision.streamLimit;
  scope.recordInput = decision.recordInput;
  // Only now, for a user who may reach the cluster: why it is down, then how to reach it (EKS:
  // DescribeCluster, AssumeRole), whose failure names the cluster's source.
  refuseUnhealthyCluster(deps.clusterHealth, decision.cluster.name, scope.startedAt);
  const cluster = (scope.cluster = await resolveUpstream(deps, decision.cluster.name));
  // Taken per request: a request after a renewal carries the new token. The client's own
  // Authorization header never passes (upstreamHeaders' allow-list leaves it out).
  const token = cluster.bearerToken ? await cluster.bearerToken() : undefined;
  // rewrite
  const headers = upstreamHeaders({
    rawHeaders: req.rawHeaders,
    auditId: scope.id,
    client,
    principals: decision.principals,
    ...(token ? { bearerToken: token } : {}),
    forwardedFor: scope.source,
    forwardedHost: req.headers.host ?? '',
  });
  scope.streaming = isStreamingTarget(scope.method, target.path, target.query);
  scope.timings.authorizedMs = elapsedMs(scope);
  const pathAndQuery = `${target.path}${target.query}`;
  const hasBody = client.contentLength !== undefined ? client.contentLength > 0 : client.chunked;
  if (!hasBody || isUpgrade) return { scope, pathAndQuery, headers, body: null };
  // Bodies are read before an upstream connection is taken. Proxied services may take bodies
  // of any size, so those over the cap (or of unknown length) stream on a connection of their own.
  if (isProxyTarget(request) && (client.contentLength === undefined || client.contentLength > deps.body.maxBodyBytes)) {
    scope.streaming = true;
    return { scope, pathAndQuery, headers, body: streamBody(req, deps.body) };
  }
  const body = await readBody(req, client.contentLength, deps.body);
  const answer = isSelfAccessReview(request) ? answerForRoles(request, body, req.headers['content-type'], decision.refusal) : undefined;
  return { scope, pathAndQuery, headers, body, ...(answer ? { answer } : {}) };
}

/**
 * Watches and followed logs hold their connection for as long as they run: only a GET with
 * watch (any resource) or with follow on pods/…/log is one; the flags mean nothing elsewhere, so
 * they cannot move other requests off the shared pool. As the API server reads these flags, any
 * value but 0 or false (an empty one included) turns them on.
 */
function isStreamingTarget(method: string, path: string, query: string): boolean {
  if (method !== 'GET') return false;
  if (path.includes('/watch/')) return true;
  if (query === '') return false;
  const params = new URLSearchParams(query);
  const on = (name: string) => params.getAll(name).some((value) => !/^(0|false)$/i.test(value));
  return on('watch') || (on('follow') && /\/pods\/[^/]+\/log$/.test(path));
}

/** pods/…/exec, attach, portforward and the proxies: the requests that may be upgrades. */
function isUpgradeTarget(request: KubeRequestInfo): boolean {
  const podStream = request.apiPrefix === 'api' && request.resource === 'pods' && STREAMING_POD_SUBRESOURCES.has(request.subresource);
  return podStream || isProxyTarget(request);
}

const STREAMING_POD_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);
const PROXIED_RESOURCES = new Set(['pods', 'services', 'nodes']);

/** pods/…/proxy, services/…/proxy, nodes/…/proxy (core group): whatever the proxied server speaks. */
function isProxyTarget(request: KubeRequestInfo): boolean {
  return request.apiPrefix === 'api' && request.subresource === 'proxy' && PROXIED_RESOURCES.has(request.resource);
}
