import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../lib/adapters/aws/clients.js';
import { S3AuditArchive } from '../../lib/adapters/aws/s3-audit-archive.js';
import type { EmbeddedStore } from '../../lib/adapters/local/embedded-dynamodb.js';
import { startEmbeddedS3 } from '../../lib/adapters/local/embedded-s3.js';
import type { AuditEvent } from '../../lib/core/ports.js';

const BUCKET = 'kubeport-audit';
const clock = { now: () => new Date('2030-03-10T12:00:00.000Z') };
let dir: string;
let s3server: EmbeddedStore;
let s3: S3Client;
let archive: S3AuditArchive;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubeport-archive-'));
  s3server = await startEmbeddedS3({ dataDir: dir, buckets: [BUCKET] });
  s3 = makeS3Client({ socketPath: s3server.socketPath, region: 'us-east-1', forcePathStyle: true });
  archive = new S3AuditArchive(s3, BUCKET, clock);
});

afterAll(async () => {
  s3?.destroy();
  await s3server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const event = (time: string, uid: string, fields: Partial<AuditEvent> = {}): AuditEvent => ({
  event: 'kube.request',
  code: 'T3009I',
  time,
  uid,
  user: 'alice',
  ...fields,
});

async function keys(prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key!).sort();
}

async function lines(key: string): Promise<AuditEvent[]> {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const text = gunzipSync(await object.Body!.transformToByteArray()).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditEvent);
}

describe('S3AuditArchive', () => {
  it('stores a batch as gzip JSON lines, oldest first, under the day of its events, as NDJSON with gzip encoding', async () => {
    const batch = [
      event('2030-03-01T10:00:02.000Z', 'b', { verb: 'GET', request_path: '/api/v1/pods', 'addr.remote': '10.0.0.1:5000' }),
      event('2030-03-01T10:00:01.500Z', 'a', { command: ['sh', '-c', 'echo "quoted" \n'] }),
    ];
    await archive.append(batch);
    const [key] = await keys('events/dt=2030-03-01/');
    expect(key).toMatch(/^events\/dt=2030-03-01\/20300301T100001500Z-[0-9a-f]{16}\.jsonl\.gz$/);
    expect(await lines(key!)).toEqual([batch[1], batch[0]]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key! }));
    expect(head.ContentType).toBe('application/x-ndjson');
    expect(head.ContentEncoding).toBe('gzip');
  });

  it('overwrites its own object when the same batch is replayed, in any order, and stores a duplicate once', async () => {
    const batch = [
      event('2030-03-02T08:00:00.000Z', 'x1'),
      event('2030-03-02T08:00:01.000Z', 'x2'),
      event('2030-03-02T08:00:02.000Z', 'x3'),
    ];
    await archive.append(batch);
    await archive.append([...batch].reverse());
    await archive.append([...batch, batch[1]!]);
    const stored = await keys('events/dt=2030-03-02/');
    expect(stored).toHaveLength(1);
    expect((await lines(stored[0]!)).map((e) => e.uid)).toEqual(['x1', 'x2', 'x3']);
    // Another batch of the same day is another object.
    await archive.append([event('2030-03-02T08:00:00.000Z', 'x4')]);
    expect(await keys('events/dt=2030-03-02/')).toHaveLength(2);
  });

  it('splits a batch that spans midnight into one object per day', async () => {
    await archive.append([
      event('2030-03-03T23:59:59.999Z', 'late'),
      event('2030-03-04T00:00:00.000Z', 'early'),
      event('2030-03-03T22:00:00.000Z', 'evening'),
    ]);
    const [before] = await keys('events/dt=2030-03-03/');
    const [after] = await keys('events/dt=2030-03-04/');
    expect((await lines(before!)).map((e) => e.uid)).toEqual(['evening', 'late']);
    expect((await lines(after!)).map((e) => e.uid)).toEqual(['early']);
    expect(after).toMatch(/\/20300304T000000000Z-/);
  });

  it('files an event whose time does not parse under the day it was archived, and does nothing for an empty batch', async () => {
    await archive.append([]);
    await archive.append([event('not a time', 'odd')]);
    const [key] = await keys('events/dt=2030-03-10/');
    expect((await lines(key!)).map((e) => [e.uid, e.time])).toEqual([['odd', 'not a time']]);
  });
});
