// The served API as a route table: discovery, namespaces, pods, logs, events, the writable kinds
// (configmaps, secrets: object-routes.ts) and the two self-reviews. exec is an upgrade and has its
// own module (exec.ts).
import { parseAccessReviewSpec } from '../core/access-review-spec.js';
import type { Authorizer } from './authentication.js';
import { discoveryDocs, versionDoc } from './discovery.js';
import { eventColumns } from './events.js';
import { type Fixtures, type KubeObject, rfc3339 } from './fixtures.js';
import { type Attributes, type Reply, discoveryContentType, json, negotiate, notFound, pathNotFound, statusReply } from './replies.js';
import { type CompiledRoute, type RequestContext, type Route, compileRoutes, readBody } from './routing.js';
import { openapiCoreV1, openapiRoot } from './openapi.js';
import { type WritableStores, writableRoutes } from './object-routes.js';
import type { Revision } from './object-store.js';
import { listReply, stream } from './streams.js';
import { type Column, namespaceColumns, podColumns } from './tables.js';
import type { StreamOptions, UserInfo } from './types.js';

export interface ApiState {
  fixtures: Fixtures;
  allowed: Authorizer;
  /** Whether a user may impersonate (a SelfSubjectAccessReview for verb impersonate asks this). */
  mayImpersonate: (user: UserInfo) => boolean;
  streams: StreamOptions;
  writable: WritableStores;
  revision: Revision;
  /** The legacy /api document, which names the listening port. */
  legacyCore(): Buffer;
}

export function apiRoutes({ fixtures, allowed, mayImpersonate, streams, writable, revision, legacyCore }: ApiState): CompiledRoute[] {
  const allPods = [...fixtures.pods.values()].flat().map((s) => s.object);
  const ok = (body: Buffer | undefined): Reply => (body ? { status: 200, body } : pathNotFound);
  const discovery = (ctx: RequestContext, aggregated: Buffer, legacy: Buffer): Reply =>
    negotiate(ctx.req.headers.accept) === 'discovery'
      ? { status: 200, body: aggregated, contentType: discoveryContentType }
      : { status: 200, body: legacy };
  const list = (ctx: RequestContext, kind: string, items: KubeObject[], columns: Column[]) =>
    listReply(ctx, kind, items, columns, fixtures.resourceVersion, streams);
  const events = (ctx: RequestContext, namespace?: string) =>
    listReply(
      ctx,
      'EventList',
      fixtures.events.list(namespace),
      eventColumns,
      fixtures.resourceVersion,
      streams,
      fixtures.events.watch(namespace),
    );
  const created = (body: unknown): Reply => ({ status: 201, body: json(body) });
  const now = () => ({ creationTimestamp: rfc3339(Date.now()) });

  // New endpoints slot in as more rows; upgrades (exec) are routed in exec.ts.
  const routeTable: Route[] = [
    { method: 'GET', pattern: '/version', handle: () => ({ status: 200, body: versionDoc }) },
    { method: 'GET', pattern: '/api', handle: (ctx) => discovery(ctx, discoveryDocs.aggregatedCore, legacyCore()) },
    { method: 'GET', pattern: '/apis', handle: (ctx) => discovery(ctx, discoveryDocs.aggregatedGroups, discoveryDocs.legacyGroups) },
    { method: 'GET', pattern: '/openapi/v3', handle: () => ({ status: 200, body: openapiRoot }) },
    { method: 'GET', pattern: '/openapi/v3/api/v1', handle: () => ({ status: 200, body: openapiCoreV1 }) },
    { method: 'GET', pattern: '/api/:v', handle: ({ params }) => ok(discoveryDocs.resourceLists.get(params.v ?? '')) },
    { method: 'GET', pattern: '/apis/:g/:v', handle: ({ params }) => ok(discoveryDocs.resourceLists.get(`${params.g}/${params.v}`)) },
    {
      method: 'GET',
      pattern: '/api/v1/namespaces',
      authorize: () => ({ verb: 'list', group: '', resource: 'namespaces' }),
      handle: (ctx) =>
        list(
          ctx,
          'NamespaceList',
          [...fixtures.namespaces.values()].map((s) => s.object),
          namespaceColumns,
        ),
    },
    {
      method: 'GET',
      pattern: '/api/v1/namespaces/:ns',
      // The apiserver files a namespace under itself, so a grant in that namespace covers it.
      authorize: ({ ns }) => ({ verb: 'get', group: '', resource: 'namespaces', namespace: ns, name: ns }),
      handle: ({ params: { ns = '' } }) => {
        const namespace = fixtures.namespaces.get(ns);
        return namespace ? ok(namespace.body) : notFound('namespaces', ns);
      },
    },
    {
      method: 'GET',
      pattern: '/api/v1/pods',
      authorize: () => ({ verb: 'list', group: '', resource: 'pods' }),
      handle: (ctx) => list(ctx, 'PodList', allPods, podColumns),
    },
    {
      method: 'GET',
      pattern: '/api/v1/namespaces/:ns/pods',
      authorize: ({ ns }) => ({ verb: 'list', group: '', resource: 'pods', namespace: ns }),
      handle: (ctx) =>
        list(
          ctx,
          'PodList',
          (fixtures.pods.get(ctx.params.ns ?? '') ?? []).map((s) => s.object),
          podColumns,
        ),
    },
    {
      method: 'GET',
      pattern: '/api/v1/namespaces/:ns/pods/:name',
      authorize: ({ ns, name }) => ({ verb: 'get', group: '', resource: 'pods', namespace: ns, name }),
      handle: ({ params: { ns = '', name = '' } }) => {
        const pod = fixtures.pods.get(ns)?.find((s) => s.object.metadata.name === name);
        return pod ? ok(pod.body) : notFound('pods', name);
      },
    },
    {
      method: 'GET',
      pattern: '/api/v1/namespaces/:ns/pods/:name/log',
      authorize: ({ ns, name }) => ({ verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace: ns, name }),
      handle: (ctx) => {
        const { ns = '', name = '' } = ctx.params;
        if (!fixtures.pods.get(ns)?.some((s) => s.object.metadata.name === name)) return notFound('pods', name);
        // --timestamps puts the time each line was written before it, as the kubelet does.
        const stamped = /^(true|1)$/.test(ctx.query.get('timestamps') ?? '');
        const line = (n: number) => `${stamped ? `${new Date().toISOString()} ` : ''}${name} log line ${n}\n`;
        // A followed log starts with what is already there, then grows.
        if (/^(true|1)$/.test(ctx.query.get('follow') ?? '')) return stream(ctx, 'text/plain', streams, line, line(0));
        return { status: 200, body: Buffer.from(line(0)), contentType: 'text/plain' };
      },
    },
    ...writableRoutes(writable, revision, streams),
    {
      method: 'GET',
      pattern: '/api/v1/events',
      authorize: () => ({ verb: 'list', group: '', resource: 'events' }),
      handle: (ctx) => events(ctx),
    },
    {
      method: 'GET',
      pattern: '/api/v1/namespaces/:ns/events',
      authorize: ({ ns }) => ({ verb: 'list', group: '', resource: 'events', namespace: ns }),
      handle: (ctx) => events(ctx, ctx.params.ns ?? ''),
    },
    {
      method: 'GET',
      pattern: '/api/v1/namespaces/:ns/events/:name',
      authorize: ({ ns, name }) => ({ verb: 'get', group: '', resource: 'events', namespace: ns, name }),
      handle: ({ params: { ns = '', name = '' } }) => {
        const event = fixtures.events.list(ns).find((e) => e.metadata.name === name);
        return event ? ok(json(event)) : notFound('events', name);
      },
    },
    {
      method: 'POST',
      pattern: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      handle: async ({ req, user }) => {
        await readBody(req);
        return created({ kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: now(), status: { userInfo: user } });
      },
    },
    {
      method: 'POST',
      pattern: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      handle: async ({ req, user }) => {
        const spec = parseAccessReviewSpec(await readBody(req), req.headers['content-type']);
        if (!spec) return statusReply(400, 'BadRequest', 'the request body is not a valid SelfSubjectAccessReview');
        const attrs = spec.resourceAttributes;
        // Impersonation is its own grant (the agent's health check asks for it), not a namespace's.
        const status = {
          allowed: attrs ? (attrs.verb === 'impersonate' ? mayImpersonate(user) : allowed(user, attrs.namespace || undefined)) : true,
        };
        return created({ kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: now(), spec, status });
      },
    },
    ...serviceProxyRoutes(streams.intervalMs),
  ];
  return compileRoutes(routeTable);
}

/**
 * services/<name>/proxy: a proxied service that streams a line every interval until the client
 * leaves (a long response that is not a watch), and answers a POST with the size of its body.
 */
function serviceProxyRoutes(intervalMs: number): Route[] {
  const pattern = '/api/v1/namespaces/:ns/services/:name/proxy';
  const authorize = ({ ns, name }: Record<string, string>): Attributes => ({
    verb: 'get',
    group: '',
    resource: 'services',
    subresource: 'proxy',
    namespace: ns,
    name,
  });
  return [
    {
      method: 'GET',
      pattern,
      authorize,
      handle: (ctx) => stream(ctx, 'text/plain', { intervalMs, durationMs: 600_000 }, (tick) => `proxied line ${tick}\n`),
    },
    {
      method: 'POST',
      pattern,
      authorize,
      handle: async ({ req }) => ({ status: 200, body: json({ received: (await readBody(req, 64 << 20)).length }) }),
    },
  ];
}
