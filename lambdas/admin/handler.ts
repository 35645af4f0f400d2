// The admin function: tctl's API. Every call is a signed request by an identity whose roles'
// rules allow it (lib/services/admin-authorization.ts); every change is audited by the service.
import * as z from 'zod';
import { badRequest } from '../../lib/core/errors.js';
import type { CertifiedIdentity } from '../../lib/core/identity.js';
import { resolveKind, unknownKindMessage } from '../../lib/core/resource-kinds.js';
import type { ResourceKind } from '../../lib/core/resources.js';
import { AdminService } from '../../lib/services/admin.js';
import { type AdminVerb, authorize } from '../../lib/services/admin-authorization.js';
import { getResources, removeResource } from '../../lib/services/admin-resources.js';
import { type AuditSearchRequest, searchAudit } from '../../lib/services/audit-search.js';
import type { ServiceDeps } from '../../lib/services/deps.js';
import { createResources } from '../../lib/services/resource-batch.js';
import { signedCaller } from '../signed-caller.js';
import { recordingRoutes } from './recording-routes.js';
import { type ApiHandler, type RouteContext, createRouter, json, parseBody } from '../http.js';

const names = z.array(z.string()).max(64);
const addUserBody = z.object({
  name: z.string().min(1).max(253),
  roles: names,
  kubernetes_groups: names.default([]),
  kubernetes_users: names.default([]),
});
const updateUserBody = z.object({ roles: names.optional(), kubernetes_groups: names.optional(), kubernetes_users: names.optional() });
// `document` (one) is what earlier tctl versions send; `documents` is a whole file, checked together.
const createBody = z.object({
  document: z.unknown().optional(),
  documents: z.array(z.unknown()).max(500).optional(),
  source: z.string().max(1024).default('input'),
  overwrite: z.boolean().default(false),
});

const auditSearchParameters = ['since', 'until', 'user', 'type', 'cluster', 'namespace', 'session', 'limit', 'cursor'] as const;

/** The search's settings from the query string; a parameter it does not take, or one given twice, is refused by name. */
function auditSearchRequest(ctx: RouteContext): AuditSearchRequest {
  const query = new URLSearchParams(ctx.event.rawQueryString ?? '');
  const request: Record<string, string> = {};
  for (const [name, value] of query) {
    if (!(auditSearchParameters as readonly string[]).includes(name)) {
      throw badRequest(`unknown parameter ${name}; the search takes ${auditSearchParameters.join(', ')}`);
    }
    if (name in request) throw badRequest(`${name} is given twice; give it once`);
    request[name] = value;
  }
  return request;
}

function kindParam(ctx: RouteContext): ResourceKind {
  const kind = resolveKind(ctx.params.kind!);
  if (!kind) throw badRequest(unknownKindMessage(ctx.params.kind!));
  return kind;
}

export function createAdminHandler(deps: ServiceDeps, log?: (message: string) => void): ApiHandler {
  const admin = new AdminService(deps);
  const allowed = async (ctx: RouteContext, ...checks: [string, AdminVerb][]): Promise<CertifiedIdentity> => {
    const identity = await signedCaller(deps, ctx);
    await authorize(deps.resources, identity, checks);
    return identity;
  };
  return createRouter(
    [
      {
        method: 'POST',
        pattern: '/webapi/admin/users',
        handler: async (ctx) => {
          const identity = await allowed(ctx, ['user', 'create']);
          const body = parseBody(addUserBody, ctx.body);
          const result = await admin.addUser(identity, {
            name: body.name,
            roles: body.roles,
            kubernetesGroups: body.kubernetes_groups,
            kubernetesUsers: body.kubernetes_users,
          });
          return json(201, { user: result.user, invite: result.invite, expires: result.expires });
        },
      },
      {
        method: 'GET',
        pattern: '/webapi/admin/users',
        handler: async (ctx) => {
          await allowed(ctx, ['user', 'list'], ['user', 'read']);
          return json(200, { items: await admin.listUsers() });
        },
      },
      {
        method: 'POST',
        pattern: '/webapi/admin/users/{name}/update',
        handler: async (ctx) => {
          const identity = await allowed(ctx, ['user', 'update']);
          const body = parseBody(updateUserBody, ctx.body);
          const { user, changed } = await admin.updateUser(identity, ctx.params.name!, {
            ...(body.roles ? { roles: body.roles } : {}),
            ...(body.kubernetes_groups ? { kubernetesGroups: body.kubernetes_groups } : {}),
            ...(body.kubernetes_users ? { kubernetesUsers: body.kubernetes_users } : {}),
          });
          return json(200, { user, changed });
        },
      },
      {
        method: 'POST',
        pattern: '/webapi/admin/users/{name}/reset',
        handler: async (ctx) => {
          const result = await admin.resetUser(await allowed(ctx, ['user', 'update']), ctx.params.name!);
          return json(200, { user: result.user, invite: result.invite, expires: result.expires });
        },
      },
      {
        method: 'POST',
        pattern: '/webapi/admin/users/{name}/unlock',
        handler: async (ctx) => {
          const { failuresCleared } = await admin.unlockUser(await allowed(ctx, ['user', 'update']), ctx.params.name!);
          return json(200, { unlocked: ctx.params.name, failures_cleared: failuresCleared });
        },
      },
      {
        method: 'GET',
        pattern: '/webapi/admin/status',
        handler: async (ctx) => {
          await allowed(ctx, ['user', 'list'], ['role', 'list']);
          return json(200, await admin.counts());
        },
      },
      {
        method: 'DELETE',
        pattern: '/webapi/admin/users/{name}',
        handler: async (ctx) => {
          await admin.removeUser(await allowed(ctx, ['user', 'delete']), ctx.params.name!);
          return json(200, { removed: ctx.params.name });
        },
      },
      {
        method: 'GET',
        pattern: '/webapi/admin/audit/events',
        handler: async (ctx) => {
          // As in Teleport: searching the audit log is list and read on `event`.
          await allowed(ctx, ['event', 'list'], ['event', 'read']);
          const page = await searchAudit(deps, auditSearchRequest(ctx));
          return json(200, { events: page.events, ...(page.cursor !== undefined ? { cursor: page.cursor } : {}) });
        },
      },
      {
        method: 'GET',
        pattern: '/webapi/admin/resources/{kind}',
        handler: async (ctx) => {
          const kind = kindParam(ctx);
          // Listing shows every field, so it needs read as well, as in Teleport.
          await allowed(ctx, [kind, 'list'], [kind, 'read']);
          return json(200, { items: await getResources(deps, kind) });
        },
      },
      {
        method: 'GET',
        pattern: '/webapi/admin/resources/{kind}/{name}',
        handler: async (ctx) => {
          const kind = kindParam(ctx);
          await allowed(ctx, [kind, 'read']);
          return json(200, { items: await getResources(deps, kind, ctx.params.name!) });
        },
      },
      {
        method: 'POST',
        pattern: '/webapi/admin/resources',
        handler: async (ctx) => {
          const identity = await signedCaller(deps, ctx);
          const body = parseBody(createBody, ctx.body);
          const documents = body.documents ?? (body.document === undefined ? [] : [body.document]);
          const results = await createResources(deps, identity, { documents, source: body.source, overwrite: body.overwrite });
          return json(results.some((r) => r.created) ? 201 : 200, { results });
        },
      },
      {
        method: 'DELETE',
        pattern: '/webapi/admin/resources/{kind}/{name}',
        handler: async (ctx) => {
          const kind = kindParam(ctx);
          const identity = await allowed(ctx, [kind, 'delete']);
          const name = ctx.params.name!;
          if (kind === 'user') {
            await admin.removeUser(identity, name);
            return json(200, { removed: `user/${name}` });
          }
          const { revertedToBuiltin } = await removeResource(deps, identity, kind, name);
          return json(200, { removed: `${kind}/${name}`, reverted_to_builtin: revertedToBuiltin });
        },
      },
      ...recordingRoutes(deps),
    ],
    log,
  );
}
