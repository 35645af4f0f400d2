import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { EmbeddedStore } from './embedded-dynamodb.js';
import { servePrivately } from './private-socket.js';

interface S3rverApp {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  configureBuckets(): Promise<unknown>;
  logger: { close(): void };
}

interface S3rverOptions {
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
}

// s3rver is CommonJS without type declarations.
const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as new (options: S3rverOptions) => S3rverApp;
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account.js') as {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
};

// s3rver only knows its own access key; register the one our local clients sign with.
DUMMY_ACCOUNT.createKeyPair('local', 'local');

export interface EmbeddedS3Options {
  /** Directory holding buckets and objects; reused across restarts. */
  dataDir: string;
  /** Created at start when missing. */
  buckets: string[];
}

export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedStore> {
  const { dataDir, buckets } = options;
  const app = new S3rver({
    directory: dataDir,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  await app.configureBuckets();
  // Served on a Unix socket only this account can reach (see private-socket.ts): s3rver accepts
  // any signature, and browsers cannot open Unix sockets, so its CORS answers reach no web page.
  const server = createServer(app.callback());
  return servePrivately(server, 's3', () => app.logger.close());
}
