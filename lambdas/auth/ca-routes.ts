// CA rotation over the API: tctl auth rotate (POST /webapi/ca/rotate) and tctl status (GET
// /webapi/ca). Signed calls, allowed by the caller's role rules on cert_authority.
import * as z from 'zod';
import { CA_TYPES, ROTATION_PHASES } from '../../lib/core/cert-authority-resource.js';
import { KubeportError, badRequest } from '../../lib/core/errors.js';
import { authorize } from '../../lib/services/admin-authorization.js';
import { type RotateRequest, describeCertAuthorities, rotate } from '../../lib/services/cert-authorities.js';
import type { ServiceDeps } from '../../lib/services/deps.js';
import { signedCaller } from '../signed-caller.js';
import { type Route, json, parseBody } from '../http.js';

const rotateBody = z
  .object({
    type: z.enum(CA_TYPES),
    /** Manual: one phase at a time (the default). Not manual: every phase at once, with the grace period. */
    manual: z.boolean().default(true),
    phase: z.enum(ROTATION_PHASES).optional(),
    grace_period_seconds: z
      .number()
      .int()
      .positive()
      .max(365 * 86_400)
      .optional(),
  })
  .strict();

/** The grace period of --manual=false when none is given: Teleport's default, and the longest certificate. */
export const DEFAULT_GRACE_PERIOD_SECONDS = 30 * 3600;

export function caRoutes(deps: ServiceDeps): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/webapi/ca/rotate',
      handler: async (ctx) => {
        const caller = await signedCaller(deps, ctx);
        await authorize(deps.resources, caller, [['cert_authority', 'update']]);
        const body = parseBody(rotateBody, ctx.body);
        if (!deps.caKeys)
          throw new KubeportError('unavailable', 'this server holds no CA keys, so it cannot rotate a CA; rotate through the auth API');
        await rotate({ ...deps, keys: deps.caKeys }, rotateRequest(body), caller.username);
        return json(200, { cas: await describeCertAuthorities(deps) });
      },
    },
    {
      method: 'GET',
      pattern: '/webapi/ca',
      handler: async (ctx) => {
        const caller = await signedCaller(deps, ctx);
        await authorize(deps.resources, caller, [['cert_authority', 'read']]);
        return json(200, { cas: await describeCertAuthorities(deps) });
      },
    },
  ];
}

function rotateRequest(body: z.infer<typeof rotateBody>): RotateRequest {
  if (body.manual) {
    if (!body.phase)
      throw badRequest('a manual rotation goes one phase at a time: give --phase=init|update_clients|update_servers|standby');
    if (body.grace_period_seconds !== undefined)
      throw badRequest('--grace-period is for --manual=false; a manual rotation sets no grace period');
    return { type: body.type, mode: 'manual', phase: body.phase };
  }
  if (body.phase) throw badRequest('--manual=false runs every phase at once; leave out --phase');
  return { type: body.type, mode: 'auto', gracePeriodMs: (body.grace_period_seconds ?? DEFAULT_GRACE_PERIOD_SECONDS) * 1000 };
}
