// The auth function: ping, local-user login and enrollment, GitHub login, the user's cluster list,
// CA rotation, the agent's certificate.
import * as z from 'zod';
import type { ServiceDeps } from '../../lib/services/deps.js';
import { defaultConnector, listConnectors } from '../../lib/services/github-connectors.js';
import { loginResponse } from '../../lib/services/login-response.js';
import { LocalUsers } from '../../lib/services/local-users.js';
import type { AgentHostCertConfig } from '../../lib/services/agent-host-certificate.js';
import { visibleClusters } from '../../lib/services/kube-cluster-statuses.js';
import { signedCaller } from '../signed-caller.js';
import { type ApiHandler, type RouteContext, createRouter, json, parseBody } from '../http.js';
import { caRoutes } from './ca-routes.js';
import { hostCertRoutes } from './host-cert-route.js';
import { githubRoutes } from './github-routes.js';
import { publicKeySpki } from './public-key.js';

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

export interface AuthHandlerOptions {
  /** The deployment's agent (its task role and host names); without it POST /webapi/iam/host-cert answers 404. */
  agentHostCert?: AgentHostCertConfig;
}

export function createAuthHandler(deps: ServiceDeps, log?: (message: string) => void, options: AuthHandlerOptions = {}): ApiHandler {
  const localUsers = new LocalUsers(deps);
  localUsers.prepareDecoy();
  return createRouter(
    [
      { method: 'GET', pattern: '/webapi/ping', handler: async () => json(200, await ping(deps)) },
      ...githubRoutes(deps, log),
      ...caRoutes(deps),
      ...hostCertRoutes(deps, options.agentHostCert),
      {
        method: 'POST',
        pattern: '/webapi/local/invite/totp',
        handler: async (ctx) => {
          const body = parseBody(startEnrollBody, ctx.body);
          const enrollment = await localUsers.startEnrollment(body.user, body.invite, ctx.sourceIp, ctx.userAgent);
          return json(200, { otpauth_uri: enrollment.otpauthUri, secret: enrollment.secret });
        },
      },
      {
        method: 'POST',
        pattern: '/webapi/local/invite/complete',
        handler: async (ctx) => {
          const body = parseBody(enrollBody, ctx.body);
          return json(200, await loginResponse(deps, await localUsers.completeEnrollment({ ...attempt(body, ctx), invite: body.invite })));
        },
      },
      {
        method: 'POST',
        pattern: '/webapi/local/login',
        handler: async (ctx) => json(200, await loginResponse(deps, await localUsers.login(attempt(parseBody(loginBody, ctx.body), ctx)))),
      },
      {
        method: 'GET',
        pattern: '/webapi/kube/clusters',
        // Each visible cluster with its health; other clusters, and their statuses, are never read out.
        handler: async (ctx) => json(200, { clusters: await visibleClusters(deps, await signedCaller(deps, ctx)) }),
      },
    ],
    log,
  );
}

async function ping(deps: ServiceDeps) {
  const connectors = await listConnectors(deps.resources);
  const github = defaultConnector(connectors);
  const display = (c: (typeof connectors)[number]) => c.spec.display ?? 'GitHub';
  return {
    cluster_name: deps.clusterName,
    server_version: deps.serverVersion,
    server_time: deps.clock.now().toISOString(),
    auth: {
      // GitHub is the default as soon as a connector exists; local users still log in with --auth=local.
      type: github ? 'github' : 'local',
      second_factor: 'otp',
      local: { name: 'local' },
      ...(github ? { github: { name: github.metadata.name, display: display(github) } } : {}),
      connectors: [
        ...connectors.map((c) => ({ type: 'github', name: c.metadata.name, display: display(c) })),
        { type: 'local', name: 'local', display: 'Local users' },
      ],
      allow_headless: true,
    },
    proxy: { kube: { enabled: true, public_addr: deps.agentAddress } },
    ca: { user: await deps.cas.trusted('user'), host: await deps.cas.trusted('host') },
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
    userAgent: ctx.userAgent,
  };
}
