import { mkdtemp, rm } from 'node:fs/promises';
import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
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

/**
 * The attack: a raw DynamoDB or S3 request (the stores accept any signature) sent over the
 * store's socket by whichever OS account runs this script. Prints the answer's status, or the
 * connection error's code.
 */
const ATTACK = `
const [socketPath, method, path, target, body] = process.argv.slice(1);
const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-date': '20300101T000000Z', authorization: 'AWS4-HMAC-SHA256 Credential=local/20300101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00' };
if (target) headers['x-amz-target'] = target;
const req = require('node:http').request({ socketPath, method, path, headers }, (res) => { res.resume(); console.log(String(res.statusCode)); });
req.on('error', (error) => console.log(error.code));
req.end(body);
`;

async function runAttack(
  asUser: string | undefined,
  socketPath: string,
  method: string,
  path: string,
  target = '',
  body = '',
): Promise<string> {
  const args = [process.execPath, '-e', ATTACK, socketPath, method, path, target, body];
  const [command, ...rest] = asUser === undefined ? args : ['runuser', '-u', asUser, '--', ...args];
  // Asynchronously: the store answers from this very process.
  const { stdout } = await promisify(execFile)(command!, rest, { encoding: 'utf8', timeout: 20_000 });
  return stdout.trim();
}

const runuserMissing = spawnSync('runuser', ['--help']).error !== undefined;
const otherAccountSkip = process.getuid?.() !== 0 ? 'needs root to act as another account' : runuserMissing ? 'needs runuser' : undefined;

const createTable = (name: string) =>
  JSON.stringify({
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  });

/** Inodes of the TCP sockets this process listens on (Linux). */
function listeningTcpInodes(): Set<string> {
  const mine = new Set(
    readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1] ?? ''];
      } catch {
        return [];
      }
    }),
  );
  const listening = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((cols) => cols[3] === '0A')
      .map((cols) => cols[9]!),
  );
  return new Set(listening.filter((inode) => mine.has(inode)));
}

function expectPrivateSocket(socketPath: string): void {
  const dir = statSync(dirname(socketPath));
  expect(dir.mode & 0o777).toBe(0o700);
  expect(dir.uid).toBe(process.getuid?.());
  expect(statSync(socketPath).isSocket()).toBe(true);
}

describe('embedded DynamoDB', () => {
  it('answers only on a Unix socket in a directory no other account can enter', async () => {
    const dynamo = await track(startEmbeddedDynamoDb());
    expectPrivateSocket(dynamo.socketPath);
    // The same raw, unverified request the attack below sends works for this account.
    expect(await runAttack(undefined, dynamo.socketPath, 'POST', '/', 'DynamoDB_20120810.ListTables', '{}')).toBe('200');
  });

  it.skipIf(process.platform !== 'linux')('opens no TCP port', async () => {
    const before = listeningTcpInodes();
    const dynamo = await track(startEmbeddedDynamoDb());
    const s3 = await track(startEmbeddedS3({ dataDir: join(dataRoot, 's3-ports'), buckets: ['audit'] }));
    expect([...listeningTcpInodes()].filter((inode) => !before.has(inode))).toEqual([]);
    expect([dynamo.socketPath, s3.socketPath].every((path) => path.endsWith('.sock'))).toBe(true);
  });

  it.skipIf(otherAccountSkip !== undefined)(
    `cannot be reached by another OS account${otherAccountSkip ? ` (skipped: ${otherAccountSkip})` : ''}`,
    async () => {
      const dynamo = await track(startEmbeddedDynamoDb());
      expect(await runAttack('nobody', dynamo.socketPath, 'POST', '/', 'DynamoDB_20120810.CreateTable', createTable('planted'))).toBe(
        'EACCES',
      );
      const client = makeDynamoClient({ socketPath: dynamo.socketPath, region });
      try {
        expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
      } finally {
        client.destroy();
      }
    },
  );

  it('keeps data in dataDir across a restart', async () => {
    const dataDir = join(dataRoot, 'dynamo');
    const names = tableNamesWithPrefix('persist-');
    const first = await track(startEmbeddedDynamoDb({ dataDir }));
    const firstClient = makeDynamoClient({ socketPath: first.socketPath, region });
    await createTables(firstClient, names);
    const written = await new DynamoResourceStore(firstClient, names.resources).put('role', 'admin', { allow: ['*'] });
    firstClient.destroy();
    await stop(first);

    const second = await track(startEmbeddedDynamoDb({ dataDir }));
    const secondClient = makeDynamoClient({ socketPath: second.socketPath, region });
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
    const client = makeS3Client({ socketPath: s3.socketPath, region, forcePathStyle: true });
    try {
      await client.send(
        new PutObjectCommand({ Bucket: 'recordings', Key: 'a/b.json', Body: '{"ok":true}', ContentType: 'application/json' }),
      );
      const got = await client.send(new GetObjectCommand({ Bucket: 'recordings', Key: 'a/b.json' }));
      expect(await got.Body?.transformToString()).toBe('{"ok":true}');
      expect(got.ContentType).toBe('application/json');

      // Streamed bodies are where SDK checksums would switch to aws-chunked framing, which the
      // embedded S3 would store verbatim.
      const chunks = [Buffer.from('first part, '), Buffer.from('second part')];
      await client.send(new PutObjectCommand({ Bucket: 'recordings', Key: 'streamed', Body: Readable.from(chunks), ContentLength: 23 }));
      const streamed = await client.send(new GetObjectCommand({ Bucket: 'recordings', Key: 'streamed' }));
      expect(await streamed.Body?.transformToString()).toBe('first part, second part');
    } finally {
      client.destroy();
    }
  });

  it.skipIf(otherAccountSkip !== undefined)(
    `cannot be reached by another OS account${otherAccountSkip ? ` (skipped: ${otherAccountSkip})` : ''}`,
    async () => {
      const s3 = await track(startEmbeddedS3({ dataDir: join(dataRoot, 's3-other-account'), buckets: ['audit'] }));
      expectPrivateSocket(s3.socketPath);
      expect(await runAttack('nobody', s3.socketPath, 'PUT', '/audit/planted.txt', '', 'planted')).toBe('EACCES');
      expect(await runAttack('nobody', s3.socketPath, 'GET', '/audit/')).toBe('EACCES');
      const client = makeS3Client({ socketPath: s3.socketPath, region, forcePathStyle: true });
      try {
        await expect(client.send(new GetObjectCommand({ Bucket: 'audit', Key: 'planted.txt' }))).rejects.toMatchObject({
          name: 'NoSuchKey',
        });
      } finally {
        client.destroy();
      }
    },
  );

  it('keeps buckets and objects in dataDir across a restart', async () => {
    const dataDir = join(dataRoot, 's3-persist');
    const first = await track(startEmbeddedS3({ dataDir, buckets: ['recordings'] }));
    const firstClient = makeS3Client({ socketPath: first.socketPath, region, forcePathStyle: true });
    await firstClient.send(new PutObjectCommand({ Bucket: 'recordings', Key: 'kept.txt', Body: 'still here' }));
    firstClient.destroy();
    await stop(first);

    const second = await track(startEmbeddedS3({ dataDir, buckets: ['recordings'] }));
    const secondClient = makeS3Client({ socketPath: second.socketPath, region, forcePathStyle: true });
    try {
      const got = await secondClient.send(new GetObjectCommand({ Bucket: 'recordings', Key: 'kept.txt' }));
      expect(await got.Body?.transformToString()).toBe('still here');
    } finally {
      secondClient.destroy();
    }
  });
});
