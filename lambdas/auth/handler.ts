// The auth function: ping, local-user login and enrollment, the user's cluster list.
import { z } from 'zod';
import { createPublicKey } from 'node:crypto';
import { badRequest } from '../../lib/core/errors.js';
import { clusterAllowed } from '../../lib/core/kube-access.js';
import type { KubeCluster } from '../../lib/core/resources.js';
import type { ServiceDeps } from '../../lib/services/deps.js';
import type { IssuedCertificate } from '../../lib/services/issue-certificate.js';
import { LocalUsers } from '../../lib/services/local-users.js';
import { loadRoles } from '../../lib/services/roles.js';
import { signedCaller } from '../signed-caller.js';
import { type ApiHandler, type RouteContext, createRouter, json, parseBody } from '../http.js';

const userName = z.string().min(1).max(253);
const loginFields = {
  user: userName,
  password: z.string().min(1).max(1024),
  totp_code: z.string().max(16),
  public_key: z.string().min(1).max(4096),
  ttl_seconds: z.number().int().positive().optional(),
};
const loginBody = z.object(loginFields);
const enrollBody = z.object({ ...loginFields, invite: z.string().min(1).max(256) });
const startEnrollBody = z.object({ user: userName, invite: z.string().min(1).max(256) });

export function createAuthHandler(deps: ServiceDeps, log?: (message: string) => void): ApiHandler {
  const localUsers = new LocalUsers(deps);
  localUsers.prepareDecoy();
  return createRouter(
    [
      { method: 'GET', pattern: '/webapi/ping', handler: async () => json(200, ping(deps)) },
      {
        method: 'POST',
        pattern: '/webapi/local/invite/totp',
        handler: async (ctx) => {
          const body = parseBody(startEnrollBody, ctx.body);
          const enrollment = await localUsers.startEnrollment(body.user, body.invite, ctx.sourceIp);
          return json(200, { otpauth_uri: enrollment.otpauthUri, secret: enrollment.secret });
        },
      },
      {
        method: 'POST',
        pattern: '/webapi/local/invite/complete',
        handler: async (ctx) => {
          const body = parseBody(enrollBody, ctx.body);
          return json(200, loginResponse(deps, await localUsers.completeEnrollment({ ...attempt(body, ctx), invite: body.invite })));
        },
      },
      {
        method: 'POST',
        pattern: '/webapi/local/login',
        handler: async (ctx) => json(200, loginResponse(deps, await localUsers.login(attempt(parseBody(loginBody, ctx.body), ctx)))),
      },
      {
        method: 'GET',
        pattern: '/webapi/kube/clusters',
        handler: async (ctx) => {
          const identity = await signedCaller(deps, ctx);
          const roles = await loadRoles(deps.resources, identity.roles);
          const clusters = (await deps.resources.list<KubeCluster>('kube_cluster')).map((r) => r.body);
          const visible = clusters.filter((c) =>
            // Traits, because a role's kubernetes_labels may be templates ({{external.team}}).
            clusterAllowed(roles, { name: c.metadata.name, labels: c.metadata.labels ?? {} }, identity.traits),
          );
          return json(200, { clusters: visible.map((c) => ({ name: c.metadata.name, labels: c.metadata.labels ?? {} })) });
        },
      },
    ],
    log,
  );
}

function ping(deps: ServiceDeps) {
  return {
    cluster_name: deps.clusterName,
    server_version: deps.serverVersion,
    server_time: deps.clock.now().toISOString(),
    auth: { type: 'local', second_factor: 'otp', local: { name: 'local' } },
    proxy: { kube: { enabled: true, public_addr: deps.agentAddress } },
    ca: { user: [deps.userCa.certPem], host: [deps.hostCaCertPem] },
  };
}

function attempt(body: z.infer<typeof loginBody>, ctx: RouteContext) {
  return {
    user: body.user,
    password: body.password,
    totpCode: body.totp_code,
    publicKeySpki: publicKeySpki(body.public_key),
    ttlMs: body.ttl_seconds === undefined ? undefined : body.ttl_seconds * 1000,
    source: ctx.sourceIp,
  };
}

function publicKeySpki(pem: string): Uint8Array {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw badRequest('public_key must be an ECDSA P-256 key');
    }
    return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
  } catch (error) {
    if (error instanceof Error && error.name === 'KubeportError') throw error;
    throw badRequest('public_key is not a PEM public key');
  }
}

function loginResponse(deps: ServiceDeps, issued: IssuedCertificate) {
  return {
    username: issued.identity.username,
    cert: issued.certPem,
    expires: issued.expires,
    roles: issued.identity.roles,
    traits: issued.identity.traits,
    ca: { user: [deps.userCa.certPem], host: [deps.hostCaCertPem] },
  };
}
