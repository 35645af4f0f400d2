// API Gateway has only the routes the stack lists; a route a handler serves but the stack does
// not list would answer 404 on AWS while working in local mode. The handlers' sources are read
// for their routes, so a new one fails here until the stack lists it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN_ROUTE, AUTH_ROUTES, BREAK_GLASS_ROUTE, type ApiRoute } from '../../lib/infra/control-plane-api.js';
import { repoRoot } from '../support/cli.js';

/**
 * `{ method: 'GET', pattern: '/webapi/x/{name}' }` pairs in a handler directory's sources; a pattern
 * written on a prefix (`${prefix}/users`) stands for each prefix the handler serves it under.
 */
function handlerRoutes(dir: string, prefixes: string[] = []): { method: string; path: string }[] {
  const sources = readdirSync(join(repoRoot, dir))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => readFileSync(join(repoRoot, dir, file), 'utf8'));
  return sources.flatMap((source) =>
    [...source.matchAll(/method: '([A-Z]+)',\s*pattern: ['`]([^'`]+)['`]/g)].flatMap(([, method, path]) =>
      path!.startsWith('${prefix}')
        ? prefixes.map((prefix) => ({ method: method!, path: prefix + path!.slice('${prefix}'.length) }))
        : [{ method: method!, path: path! }],
    ),
  );
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
    const served = handlerRoutes('lambdas/admin', ['/webapi/admin', '/webapi/iam/admin']);
    expect(served.length).toBeGreaterThan(10);
    expect(served.map((r) => `${r.method} ${r.path}`)).toContain('GET /webapi/iam/admin/users');
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
