// GitHub login routes: browser (console + callback) and headless (device flow). Thin: parse,
// call the service, answer.
import * as z from 'zod';
import type { ServiceDeps } from '../../lib/services/deps.js';
import { GitHubHeadlessLogin } from '../../lib/services/github-headless-login.js';
import { GitHubBrowserLogin } from '../../lib/services/github-login.js';
import { admitLoginCall } from '../../lib/services/github-sign-in.js';
import { SourceRateLimit, githubHeadlessPollLimit, githubLoginStartLimit } from '../../lib/services/source-rate-limit.js';
import { type Route, type RouteContext, json, parseBody } from '../http.js';
import { callbackPage } from './github-pages.js';
import { publicKeySpki } from './public-key.js';

const startFields = {
  connector_id: z.string().min(1).max(253).optional(),
  public_key: z.string().min(1).max(4096),
  ttl_seconds: z
    .number()
    .int()
    .positive()
    .max(10 * 365 * 86_400)
    .optional(),
};
const consoleBody = z.object({ ...startFields, redirect_url: z.string().min(1).max(2048) });
const headlessBody = z.object(startFields);
const pollBody = z.object({ request_id: z.string().regex(/^[0-9a-f]{32}$/, 'use the request_id the headless login answered') });

const origin = (ctx: RouteContext) => ({ source: ctx.sourceIp, userAgent: ctx.userAgent });

const ttlMs = (seconds: number | undefined) => (seconds === undefined ? undefined : seconds * 1000);

export function githubRoutes(deps: ServiceDeps, log?: (message: string) => void): Route[] {
  const browser = new GitHubBrowserLogin(deps, log);
  const headless = new GitHubHeadlessLogin(deps);
  // Anyone may call these without a login; each stores state (and may call GitHub, and audit).
  const starts = new SourceRateLimit(deps.state, deps.clock, githubLoginStartLimit);
  const polls = new SourceRateLimit(deps.state, deps.clock, githubHeadlessPollLimit);
  return [
    {
      method: 'POST',
      pattern: '/webapi/github/login/console',
      handler: async (ctx) => {
        await admitLoginCall(deps, starts, origin(ctx));
        const body = parseBody(consoleBody, ctx.body);
        const answer = await browser.startConsole({
          connectorId: body.connector_id,
          publicKeySpki: publicKeySpki(body.public_key),
          ttlMs: ttlMs(body.ttl_seconds),
          clientRedirectUrl: body.redirect_url,
          source: ctx.sourceIp,
          userAgent: ctx.userAgent,
        });
        return json(200, { redirect_url: answer.redirectUrl });
      },
    },
    ...['/webapi/github/callback', '/v1/webapi/github/callback'].map((pattern) => ({
      // The second is Teleport's path: a connector and OAuth app set up for Teleport work unchanged.
      method: 'GET',
      pattern,
      handler: async (ctx: RouteContext) => {
        const query = new URLSearchParams(ctx.event.rawQueryString ?? '');
        const field = (name: string) => query.get(name) ?? undefined;
        const outcome = await browser.callback(
          { code: field('code'), state: field('state'), error: field('error'), error_description: field('error_description') },
          ctx.sourceIp,
          ctx.userAgent,
        );
        return callbackPage(outcome);
      },
    })),
    {
      method: 'POST',
      pattern: '/webapi/github/login/headless',
      handler: async (ctx) => {
        await admitLoginCall(deps, starts, origin(ctx));
        const body = parseBody(headlessBody, ctx.body);
        const answer = await headless.start({
          connectorId: body.connector_id,
          publicKeySpki: publicKeySpki(body.public_key),
          ttlMs: ttlMs(body.ttl_seconds),
          source: ctx.sourceIp,
          userAgent: ctx.userAgent,
        });
        return json(200, answer);
      },
    },
    {
      method: 'POST',
      pattern: '/webapi/github/login/headless/poll',
      handler: async (ctx) => {
        await admitLoginCall(deps, polls, origin(ctx));
        return json(200, await headless.poll(parseBody(pollBody, ctx.body).request_id, ctx.sourceIp, ctx.userAgent));
      },
    },
  ];
}
