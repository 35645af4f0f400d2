// Serves Lambda handlers over plain HTTP on loopback by building the same API Gateway (HTTP API,
// payload v2) events that AWS would send them.
import http from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { IamAuthorization } from '../../core/aws-caller.js';
import { KubeportError, accessDenied } from '../../core/errors.js';
import { httpErrorResponse } from '../../core/public-error.js';
import { browserRequestReason } from './loopback-guard.js';

export type EventHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const MAX_BODY_BYTES = 1024 * 1024;

/** What API Gateway's AWS_IAM authorizer adds to the event of a call it verified. */
export interface EventAuthorization {
  iam: IamAuthorization;
}

/**
 * Stands in for an API Gateway authorizer: given the request and its body, either the
 * authorization to put in the event (with the account that owns the API, which AWS reports as
 * requestContext.accountId), or the answer API Gateway gives instead of calling the function.
 */
export type GatewayAuthorizer = (
  req: http.IncomingMessage,
  body: Buffer,
) => Promise<{ authorization?: EventAuthorization; accountId?: string } | { refusal: APIGatewayProxyStructuredResultV2 }>;

export interface ApiGatewayServerOptions {
  /** Runs before every handler; local mode has none (its routes need no IAM). */
  authorizer?: GatewayAuthorizer;
}

export function toApiGatewayEvent(
  req: http.IncomingMessage,
  body: Buffer,
  now: Date,
  authorization?: EventAuthorization,
  accountId = 'local',
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const rawQueryString = url.search.startsWith('?') ? url.search.slice(1) : '';
  const textual = body.length === 0 || /json|text|yaml|x-www-form-urlencoded/.test(headers['content-type'] ?? 'application/json');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString,
    headers,
    ...(rawQueryString ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    requestContext: {
      accountId,
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: `${now.getTime()}-${Math.random().toString(16).slice(2)}`,
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
      ...(authorization ? { authorization } : {}),
    },
    ...(body.length > 0 ? { body: textual ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !textual,
  };
}

export function createApiGatewayServer(
  route: (path: string) => EventHandler,
  log: (message: string) => void,
  options: ApiGatewayServerOptions = {},
): http.Server {
  return http.createServer((req, res) => {
    const refusal =
      browserRequestReason(req) ??
      (req.method === 'POST' && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')
        ? 'POST requests must send application/json'
        : undefined);
    if (refusal) {
      // tsh and tctl never trigger this; a web page trying to reach the local API does.
      sendError(res, accessDenied(`${refusal}: the local Kubeport API serves tsh and tctl, not web pages`), log);
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        sendError(res, new KubeportError('payload_too_large', 'request body is larger than 1 MiB'), log);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const authorized: ReturnType<GatewayAuthorizer> = options.authorizer ? options.authorizer(req, body) : Promise.resolve({});
      authorized
        .then((verdict): Promise<APIGatewayProxyStructuredResultV2> | APIGatewayProxyStructuredResultV2 => {
          if ('refusal' in verdict) return verdict.refusal;
          const event = toApiGatewayEvent(req, body, new Date(), verdict.authorization, verdict.accountId);
          return route(event.rawPath)(event);
        })
        .then(
          (result) => {
            const text = result.body ?? '';
            res.writeHead(result.statusCode ?? 200, {
              ...stringHeaders(result.headers),
              'content-length': Buffer.byteLength(text, result.isBase64Encoded ? 'base64' : 'utf8'),
            });
            res.end(result.isBase64Encoded ? Buffer.from(text, 'base64') : text);
          },
          (error: unknown) => sendError(res, error, log),
        );
    });
  });
}

/** The same error answer as the handlers give (core's one rule), for what fails before or around them. */
function sendError(res: http.ServerResponse, error: unknown, log: (message: string) => void): void {
  const answer = httpErrorResponse(error, log);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(answer.statusCode, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) }).end(answer.body);
}

function stringHeaders(headers: APIGatewayProxyStructuredResultV2['headers']): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(v)]));
}
