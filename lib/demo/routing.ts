// Routing: a table of method + path patterns, each with what RBAC checks and a handler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes, Reply } from './replies.js';
import type { RecordedRequest, UserInfo } from './types.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  user: UserInfo;
  params: Record<string, string>;
  query: URLSearchParams;
}

export interface Route {
  method: string;
  /** '/'-separated segments; ':x' captures parameter x. */
  pattern: string;
  /** What RBAC checks; routes without it are open to every authenticated user. */
  authorize?: (params: Record<string, string>) => Attributes;
  handle: (ctx: RequestContext) => Reply | Promise<Reply>;
}

export type CompiledRoute = Route & { segments: string[] };

export const compileRoutes = (routes: Route[]): CompiledRoute[] => routes.map((r) => ({ ...r, segments: r.pattern.split('/').slice(1) }));

export function matchRoute(routes: CompiledRoute[], method: string, path: string) {
  const parts = path.split('/').slice(1);
  let pathMatched = false;
  for (const route of routes) {
    if (route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = route.segments.every((seg, i) => {
      const part = parts[i] as string;
      if (!seg.startsWith(':')) return seg === part;
      try {
        params[seg.slice(1)] = decodeURIComponent(part);
      } catch {
        return false;
      }
      return part !== '';
    });
    if (!ok) continue;
    pathMatched = true;
    if (route.method === method) return { route, params };
  }
  return pathMatched ? 'wrong method' : undefined;
}

export function readBody(req: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
