import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { makeDynamoClient, makeS3Client } from '../../lib/adapters/aws/clients.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { startEmbeddedDynamoDb, type EmbeddedStore } from '../../lib/adapters/local/embedded-dynamodb.js';
import { startEmbeddedS3 } from '../../lib/adapters/local/embedded-s3.js';

const region = 'us-east-1';
let dataRoot: string;
const running: EmbeddedStore[] = [];

async function track(store: Promise<EmbeddedStore>): Promise<EmbeddedStore> {
  const started = await store;
  running.push(started);
  return started;
}

async function stop(store: EmbeddedStore): Promise<void> {
  running.splice(running.indexOf(store), 1);
  await store.close();
}

beforeAll(async () => {
  dataRoot = await mkdtemp(join(tmpdir(), 'embedded-stores-'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((store) => store.close()));
});

afterAll(async () => {
  await rm(dataRoot, { recursive: true, force: true });
});

/** What a signed SDK request looks like to the server; neither store checks the signature. */
function dynamoRequest(operation: string, body: unknown, extraHeaders: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${operation}`,
      'x-amz-date': '20300101T000000Z',
      authorization: `AWS4-HMAC-SHA256 Credential=local/20300101/${region}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
      ...extraHeaders,
    },
    body: JSON.stringify(body),
  };
}

const createTableBody = (name: string) => ({
  TableName: name,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
  KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
});

function nonLoopbackAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((info) => info && !info.internal && info.family === 'IPv4')?.address;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

describe('embedded DynamoDB', () => {
  it('refuses requests carrying an Origin header and changes nothing', async () => {
    const dynamo = await track(startEmbeddedDynamoDb());
    const refused = await fetch(dynamo.endpoint, dynamoRequest('CreateTable', createTableBody('from-browser'), { origin: 'https://evil.example' }));
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException',
      message: expect.stringMatching(/^requests with an Origin header are refused: /),
    });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();

    const preflight = await fetch(dynamo.endpoint, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);

    const client = makeDynamoClient({ endpoint: dynamo.endpoint, region });
    try {
      expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
      // The same request without Origin goes through, so the refusal above was the Origin's doing.
      const allowed = await fetch(dynamo.endpoint, dynamoRequest('CreateTable', createTableBody('from-cli')));
      expect(allowed.status).toBe(200);
      expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual(['from-cli']);
    } finally {
      client.destroy();
    }
  });

  it('listens on loopback only', async () => {
    const dynamo = await track(startEmbeddedDynamoDb());
    const url = new URL(dynamo.endpoint);
    expect(url.hostname).toBe('127.0.0.1');
    const other = nonLoopbackAddress();
    if (other !== undefined) expect(await canConnect(other, Number(url.port))).toBe(false);
  });

  it('keeps data in dataDir across a restart', async () => {
    const dataDir = join(dataRoot, 'dynamo');
    const names = tableNamesWithPrefix('persist-');
    const first = await track(startEmbeddedDynamoDb({ dataDir }));
    const firstClient = makeDynamoClient({ endpoint: first.endpoint, region });
    await createTables(firstClient, names);
    const written = await new DynamoResourceStore(firstClient, names.resources).put('role', 'admin', { allow: ['*'] });
    firstClient.destroy();
    await stop(first);

    const second = await track(startEmbeddedDynamoDb({ dataDir }));
    const secondClient = makeDynamoClient({ endpoint: second.endpoint, region });
    try {
      await createTables(secondClient, names); // already there: a no-op
      expect(await new DynamoResourceStore(secondClient, names.resources).get('role', 'admin')).toEqual(written);
    } finally {
      secondClient.destroy();
    }
  });
});

describe('embedded S3', () => {
  it('stores and returns objects through the AWS SDK', async () => {
    const s3 = await track(startEmbeddedS3({ dataDir: join(dataRoot, 's3-basic'), buckets: ['recordings'] }));
    expect(new URL(s3.endpoint).hostname).toBe('127.0.0.1');
    const client = makeS3Client({ endpoint: s3.endpoint, region, forcePathStyle: true });
    try {
      await client.send(new PutObjectCommand({ Bucket: 'recordings', Key: 'a/b.json', Body: '{"ok":true}', ContentType: 'application/json' }));
      const got = await client.send(new GetObjectCommand({ Bucket: 'recordings', Key: 'a/b.json' }));
      expect(await got.Body?.transformToString()).toBe('{"ok":true}');
      expect(got.ContentType).toBe('application/json');

      // Streamed bodies are where SDK checksums would switch to aws-chunked framing, which the
      // embedded S3 would store verbatim.
      const chunks = [Buffer.from('first part, '), Buffer.from('second part')];
      await client.send(
        new PutObjectCommand({ Bucket: 'recordings', Key: 'streamed', Body: Readable.from(chunks), ContentLength: 23 }),
      );
      const streamed = await client.send(new GetObjectCommand({ Bucket: 'recordings', Key: 'streamed' }));
      expect(await streamed.Body?.transformToString()).toBe('first part, second part');
    } finally {
      client.destroy();
    }
  });

  it('refuses requests carrying an Origin header and changes nothing', async () => {
    const s3 = await track(startEmbeddedS3({ dataDir: join(dataRoot, 's3-origin'), buckets: ['recordings'] }));
    const refused = await fetch(`${s3.endpoint}/recordings/planted.txt`, {
      method: 'PUT',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: 'planted',
    });
    expect(refused.status).toBe(403);
    const body = await refused.text();
    expect(body).toContain('<Code>AccessDenied</Code>');
    expect(body).toContain('<Message>requests with an Origin header are refused: ');

    const client = makeS3Client({ endpoint: s3.endpoint, region, forcePathStyle: true });
    try {
      await expect(client.send(new GetObjectCommand({ Bucket: 'recordings', Key: 'planted.txt' }))).rejects.toMatchObject({
        name: 'NoSuchKey',
      });
    } finally {
      client.destroy();
    }
  });

  it('keeps buckets and objects in dataDir across a restart', async () => {
    const dataDir = join(dataRoot, 's3-persist');
    const first = await track(startEmbeddedS3({ dataDir, buckets: ['recordings'] }));
    const firstClient = makeS3Client({ endpoint: first.endpoint, region, forcePathStyle: true });
    await firstClient.send(new PutObjectCommand({ Bucket: 'recordings', Key: 'kept.txt', Body: 'still here' }));
    firstClient.destroy();
    await stop(first);

    const second = await track(startEmbeddedS3({ dataDir, buckets: ['recordings'] }));
    const secondClient = makeS3Client({ endpoint: second.endpoint, region, forcePathStyle: true });
    try {
      const got = await secondClient.send(new GetObjectCommand({ Bucket: 'recordings', Key: 'kept.txt' }));
      expect(await got.Body?.transformToString()).toBe('still here');
    } finally {
      secondClient.destroy();
    }
  });
});
