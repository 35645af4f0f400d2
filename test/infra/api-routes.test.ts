// API Gateway has only the routes the stack lists; a route a handler serves but the stack does
// not list would answer 404 on AWS while working in local mode. The handlers' sources are read
// for their routes, so a new one fails here until the stack lists it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN_ROUTE, AUTH_ROUTES, BREAK_GLASS_ROUTE, type ApiRoute } from '../../lib/infra/control-plane-api.js';
import { IAM_ADMIN_PREFIX, SIGNED_ADMIN_PREFIX } from '../../lib/core/aws-caller.js';
import { repoRoot } from '../support/cli.js';

/**
 * `{ method: 'GET', pattern: '/webapi/x/{name}' }` pairs in a handler directory's sources; a
 * pattern written `${prefix}/x` (the admin routes, served under both admin prefixes) is read once
 * per prefix.
 */
function handlerRoutes(dir: string): { method: string; path: string }[] {
  const sources = readdirSync(join(repoRoot, dir))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => readFileSync(join(repoRoot, dir, file), 'utf8'));
  return sources.flatMap((source) => [
    ...[...source.matchAll(/method: '([A-Z]+)',\s*pattern: '([^']+)'/g)].map(([, method, path]) => ({ method: method!, path: path! })),
    ...[...source.matchAll(/method: '([A-Z]+)',\s*pattern: `\$\{prefix\}([^`]*)`/g)].flatMap(([, method, rest]) =>
      [SIGNED_ADMIN_PREFIX, IAM_ADMIN_PREFIX].map((prefix) => ({ method: method!, path: `${prefix}${rest!}` })),
    ),
  ]);
}

/** Whether API Gateway sends `method path` to this route ({proxy+} takes the rest of the path, {x} one segment). */
function routes(route: ApiRoute, method: string, path: string): boolean {
  const source = route.path.replace(/\{proxy\+\}/g, '.+').replace(/\{\w+\}/g, '[^/]+');
  return (route.method === 'ANY' || route.method === method) && new RegExp(`^${source}$`).test(path.replace(/\{\w+\}/g, 'x'));
}

describe('the API routes', () => {
  it('reach the auth function for every route its handler serves', () => {
    const served = handlerRoutes('lambdas/auth');
    expect(served.map((r) => `${r.method} ${r.path}`)).toContain('GET /webapi/ping');
    for (const { method, path } of served)
      expect(
        AUTH_ROUTES.some((route) => routes(route, method, path)),
        `${method} ${path}`,
      ).toBe(true);
  });

  it('reach the admin function for every route its handler serves', () => {
    const served = handlerRoutes('lambdas/admin');
    expect(served.length).toBeGreaterThan(5);
    for (const { method, path } of served)
      expect(
        [ADMIN_ROUTE, BREAK_GLASS_ROUTE].some((route) => routes(route, method, path)),
        `${method} ${path}`,
      ).toBe(true);
  });

  it('would miss a route the stack does not list', () => {
    expect(AUTH_ROUTES.some((route) => routes(route, 'POST', '/webapi/github/login/unknown'))).toBe(false);
    expect(AUTH_ROUTES.some((route) => routes(route, 'GET', '/webapi/local/login'))).toBe(false);
  });
});
