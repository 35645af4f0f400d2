import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { closeServer, listenOn, type EmbeddedStore } from './embedded-dynamodb.js';
import { browserRequestReason } from './loopback-guard.js';

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
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Created at start when missing. */
  buckets: string[];
}

function refuse(res: ServerResponse, reason: string): void {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>' +
    `<Message>${reason}: the embedded S3 serves local processes, not web pages</Message></Error>`;
  res.writeHead(403, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedStore> {
  const { dataDir, host = '127.0.0.1', port = 0, buckets } = options;
  const app = new S3rver({
    directory: dataDir,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  await app.configureBuckets();
  const handler = app.callback();
  // s3rver answers CORS requests itself; ours refuses them before they reach it.
  const server = createServer((req, res) => {
    const refusal = browserRequestReason(req);
    if (refusal) refuse(res, refusal);
    else handler(req, res);
  });
  const endpoint = await listenOn(server, host, port);
  return {
    endpoint,
    close: async () => {
      await closeServer(server);
      app.logger.close();
    },
  };
}
