// The admin function: tctl's API. Every call is a signed request by an identity whose roles allow it.
import { z } from 'zod';
import type { CertifiedIdentity } from '../../lib/core/identity.js';
import { AdminService } from '../../lib/services/admin.js';
import type { ServiceDeps } from '../../lib/services/deps.js';
import { signedCaller } from '../signed-caller.js';
import { type ApiHandler, type RouteContext, createRouter, json, parseBody } from '../http.js';

const addUserBody = z.object({
  name: z.string().min(1).max(253),
  roles: z.array(z.string()).max(64),
  kubernetes_groups: z.array(z.string()).max(64).default([]),
  kubernetes_users: z.array(z.string()).max(64).default([]),
});
const createBody = z.object({
  document: z.unknown(),
  source: z.string().max(1024).default('input'),
  overwrite: z.boolean().default(false),
});

export function createAdminHandler(deps: ServiceDeps, log?: (message: string) => void): ApiHandler {
  const admin = new AdminService(deps);
  const caller = (ctx: RouteContext): Promise<CertifiedIdentity> => signedCaller(deps, ctx);
  const allowed = async (ctx: RouteContext, resource: string, verb: string) => {
    const identity = await caller(ctx);
    await admin.authorize(identity, resource, verb);
    return identity;
  };
  return createRouter(
    [
      {
        method: 'POST',
        pattern: '/webapi/admin/users',
        handler: async (ctx) => {
          const identity = await allowed(ctx, 'user', 'create');
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
          await allowed(ctx, 'user', 'list');
          return json(200, { items: await admin.listUsers() });
        },
      },
      {
        method: 'POST',
        pattern: '/webapi/admin/users/{name}/reset',
        handler: async (ctx) => {
          const result = await admin.resetUser(await allowed(ctx, 'user', 'update'), ctx.params.name!);
          return json(200, { user: result.user, invite: result.invite, expires: result.expires });
        },
      },
      {
        method: 'POST',
        pattern: '/webapi/admin/users/{name}/unlock',
        handler: async (ctx) => {
          const { failuresCleared } = await admin.unlockUser(await allowed(ctx, 'user', 'update'), ctx.params.name!);
          return json(200, { unlocked: ctx.params.name, failures_cleared: failuresCleared });
        },
      },
      {
        method: 'GET',
        pattern: '/webapi/admin/status',
        handler: async (ctx) => {
          const identity = await allowed(ctx, 'user', 'list');
          await admin.authorize(identity, 'role', 'list');
          return json(200, await admin.counts());
        },
      },
      {
        method: 'DELETE',
        pattern: '/webapi/admin/users/{name}',
        handler: async (ctx) => {
          await admin.removeUser(await allowed(ctx, 'user', 'delete'), ctx.params.name!);
          return json(200, { removed: ctx.params.name });
        },
      },
      {
        method: 'GET',
        pattern: '/webapi/admin/resources/{kind}',
        handler: async (ctx) => {
          await allowed(ctx, ctx.params.kind!, 'list');
          return json(200, { items: await admin.getResources(ctx.params.kind!) });
        },
      },
      {
        method: 'GET',
        pattern: '/webapi/admin/resources/{kind}/{name}',
        handler: async (ctx) => {
          await allowed(ctx, ctx.params.kind!, 'read');
          return json(200, { items: await admin.getResources(ctx.params.kind!, ctx.params.name!) });
        },
      },
      {
        method: 'POST',
        pattern: '/webapi/admin/resources',
        handler: async (ctx) => {
          const body = parseBody(createBody, ctx.body);
          const kind =
            typeof body.document === 'object' && body.document !== null ? String((body.document as { kind?: unknown }).kind) : 'unknown';
          const identity = await allowed(ctx, kind, 'create');
          const result = await admin.createResource(identity, body.document, body.source, body.overwrite);
          return json(result.created ? 201 : 200, result);
        },
      },
      {
        method: 'DELETE',
        pattern: '/webapi/admin/resources/{kind}/{name}',
        handler: async (ctx) => {
          await admin.removeResource(await allowed(ctx, ctx.params.kind!, 'delete'), ctx.params.kind!, ctx.params.name!);
          return json(200, { removed: `${ctx.params.kind}/${ctx.params.name}` });
        },
      },
    ],
    log,
  );
}
