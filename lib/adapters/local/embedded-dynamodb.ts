import { createRequire } from 'node:module';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { browserRequestReason } from './loopback-guard.js';

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

// dynalite is CommonJS without type declarations.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: DynaliteOptions) => Server;

export interface EmbeddedDynamoDbOptions {
  /** LevelDB directory that keeps the data across restarts; in memory when omitted. */
  dataDir?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

export interface EmbeddedStore {
  endpoint: string;
  close(): Promise<void>;
}

/** Resolves to the endpoint URL once the server listens. */
export function listenOn(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve(`http://${hostInUrl}:${address.port}`);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
  });
}

function refuse(res: ServerResponse, reason: string): void {
  const body = JSON.stringify({
    __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException',
    message: `${reason}: the embedded DynamoDB serves local processes, not web pages`,
  });
  res.writeHead(403, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startEmbeddedDynamoDb(options: EmbeddedDynamoDbOptions = {}): Promise<EmbeddedStore> {
  const { dataDir, host = '127.0.0.1', port = 0 } = options;
  const server = dynalite({
    ...(dataDir === undefined ? {} : { path: dataDir }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  // dynalite answers browsers with permissive CORS headers, so its handler is never reached
  // directly: requests pass our browser check first. We keep dynalite's own server object (with
  // its listener swapped) because only its close() releases the LevelDB lock on dataDir, and
  // that close() fails unless the server was listening.
  const handlers = server.listeners('request') as RequestHandler[];
  const dynaliteHandler = handlers[0];
  if (handlers.length !== 1 || dynaliteHandler === undefined) {
    throw new Error(`expected one dynalite request handler, found ${handlers.length}`);
  }
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const refusal = browserRequestReason(req);
    if (refusal) refuse(res, refusal);
    else dynaliteHandler(req, res);
  });

  const endpoint = await listenOn(server, host, port);
  return { endpoint, close: () => closeServer(server) };
}
