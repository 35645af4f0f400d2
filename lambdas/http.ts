// API Gateway (HTTP API, payload v2) plumbing shared by the auth and admin functions:
// a small route table, JSON in and out, and one mapping of errors to {code, message}.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import { badRequest, notFound } from '../lib/core/errors.js';
import { httpErrorResponse } from '../lib/core/public-error.js';

export interface RouteContext {
  event: APIGatewayProxyEventV2;
  params: Record<string, string>;
  body: string;
  sourceIp: string;
  /** The client's User-Agent header ('' when none), for audit events. */
  userAgent: string;
  /** Path plus raw query, as the client signed it. */
  pathAndQuery: string;
}

export type RouteHandler = (context: RouteContext) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Route {
  method: string;
  pattern: string;
  handler: RouteHandler;
}

export type ApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export function json(status: number, value: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(value),
  };
}

export function parseBody<T extends z.ZodType>(schema: T, body: string): z.infer<T> {
  let raw: unknown;
  try {
    raw = body === '' ? {} : JSON.parse(body);
  } catch {
    throw badRequest('request body is not JSON');
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw badRequest(`field ${issue.path.join('.') || '(body)'}: ${issue.message}`);
  }
  return result.data;
}

/** Every error answer goes through core's one rule; unknown failures keep their detail in the log. */
export function errorResponse(error: unknown, log: (message: string) => void = console.error): APIGatewayProxyStructuredResultV2 {
  return httpErrorResponse(error, log);
}

export function createRouter(routes: Route[], log?: (message: string) => void): ApiHandler {
  const compiled = routes.map((route) => ({ ...route, regex: compile(route.pattern) }));
  return async (event) => {
    try {
      const method = event.requestContext.http.method.toUpperCase();
      const path = event.rawPath;
      for (const route of compiled) {
        const match = route.regex.exec(path);
        if (!match || route.method !== method) continue;
        const body = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
        return await route.handler({
          event,
          params: decodeParams(match.groups ?? {}),
          body,
          sourceIp: event.requestContext.http.sourceIp,
          userAgent: event.requestContext.http.userAgent ?? event.headers?.['user-agent'] ?? '',
          pathAndQuery: event.rawQueryString ? `${path}?${event.rawQueryString}` : path,
        });
      }
      throw notFound(`no route for ${method} ${path}`);
    } catch (error) {
      return errorResponse(error, log);
    }
  };
}

function compile(pattern: string): RegExp {
  const source = pattern.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)');
  return new RegExp(`^${source}$`);
}

function decodeParams(groups: Record<string, string>): Record<string, string> {
  try {
    return Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, decodeURIComponent(v)]));
  } catch {
    throw badRequest('request path has a malformed percent-escape');
  }
}
