// Serves Lambda handlers over plain HTTP on loopback by building the same API Gateway (HTTP API,
// payload v2) events that AWS would send them.
import http from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { browserRequestReason } from './loopback-guard.js';

export type EventHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const MAX_BODY_BYTES = 1024 * 1024;

export function toApiGatewayEvent(req: http.IncomingMessage, body: Buffer, now: Date): APIGatewayProxyEventV2 {
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
      accountId: 'local',
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
    },
    ...(body.length > 0 ? { body: textual ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !textual,
  };
}

export function createApiGatewayServer(route: (path: string) => EventHandler, log: (message: string) => void): http.Server {
  return http.createServer((req, res) => {
    const refusal = browserRequestReason(req) ?? (req.method === 'POST' && !/^application\/json\b/i.test(req.headers['content-type'] ?? '') ? 'POST requests must send application/json' : undefined);
    if (refusal) {
      // tsh and tctl never trigger this; a web page trying to reach the local API does.
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'access_denied', message: `${refusal}: the local Kubeport API serves tsh and tctl, not web pages` } }));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'bad_request', message: 'request body is larger than 1 MiB' } }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const event = toApiGatewayEvent(req, Buffer.concat(chunks), new Date());
      route(event.rawPath)(event).then(
        (result) => {
          const body = result.body ?? '';
          res.writeHead(result.statusCode ?? 200, { ...stringHeaders(result.headers), 'content-length': Buffer.byteLength(body, result.isBase64Encoded ? 'base64' : 'utf8') });
          res.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
        },
        (error: unknown) => {
          log(`api handler failed: ${error instanceof Error ? error.message : String(error)}`);
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'internal', message: 'internal error' } }));
        },
      );
    });
  });
}

function stringHeaders(headers: APIGatewayProxyStructuredResultV2['headers']): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(v)]));
}
