import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { servePrivately } from './private-socket.js';

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
}

export interface EmbeddedStore {
  /** Unix socket the store answers on; only this OS account can reach it (see private-socket.ts). */
  socketPath: string;
  close(): Promise<void>;
}

export async function startEmbeddedDynamoDb(options: EmbeddedDynamoDbOptions = {}): Promise<EmbeddedStore> {
  const { dataDir } = options;
  const server = dynalite({
    ...(dataDir === undefined ? {} : { path: dataDir }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  // dynalite's own server object is kept: only its close() releases the LevelDB lock on dataDir,
  // and that close() fails unless the server was listening. Browsers cannot open Unix sockets, so
  // dynalite's permissive CORS answers reach no web page.
  return servePrivately(server, 'dynamodb');
}
