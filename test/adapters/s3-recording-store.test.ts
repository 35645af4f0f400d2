import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../lib/adapters/aws/clients.js';
import { S3RecordingStore, recordingPartKey } from '../../lib/adapters/aws/s3-recording-store.js';
import type { EmbeddedStore } from '../../lib/adapters/local/embedded-dynamodb.js';
import { startEmbeddedS3 } from '../../lib/adapters/local/embedded-s3.js';

let dataDir: string;
let s3: EmbeddedStore;
let client: S3Client;
let store: S3RecordingStore;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 's3-recordings-'));
  s3 = await startEmbeddedS3({ dataDir, buckets: ['kubeport-recordings'] });
  client = makeS3Client({ socketPath: s3.socketPath, region: 'local', forcePathStyle: true });
  store = new S3RecordingStore(client, 'kubeport-recordings');
});

afterAll(async () => {
  client.destroy();
  await s3.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('S3RecordingStore', () => {
  it('stores each part as its own object under sessions/<sid>/ with a six-digit index', async () => {
    await store.putPart('sess-a', 0, Buffer.from('header\n'));
    await store.putPart('sess-a', 1, Buffer.from('one\n'));
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'kubeport-recordings', Prefix: 'sessions/sess-a/' }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(['sessions/sess-a/000000.cast', 'sessions/sess-a/000001.cast']);
    expect(recordingPartKey('x', 42)).toBe('sessions/x/000042.cast');
  });

  it('reads the parts joined in index order, past ten parts and whatever order they were stored in', async () => {
    const indexes = [11, 3, 0, 10, 1, 2, 4, 5, 6, 7, 8, 9];
    for (const i of indexes) await store.putPart('sess-b', i, Buffer.from(`part ${i}\n`));
    const joined = (await store.read('sess-b'))!.toString();
    expect(joined).toBe(Array.from({ length: 12 }, (_, i) => `part ${i}\n`).join(''));
  });

  it('overwrites a part stored again rather than keeping both', async () => {
    await store.putPart('sess-c', 0, Buffer.from('first try\n'));
    await store.putPart('sess-c', 0, Buffer.from('second try\n'));
    expect((await store.read('sess-c'))!.toString()).toBe('second try\n');
  });

  it('reads nothing for a session that has no recording, and does not mix in a session whose id starts the same', async () => {
    await store.putPart('sess-dd', 0, Buffer.from('other\n'));
    expect(await store.read('sess-d')).toBeUndefined();
  });

  it('says where a recording is as an s3:// address of its prefix', () => {
    expect(store.url('sess-a')).toBe('s3://kubeport-recordings/sessions/sess-a/');
  });

  it('refuses a session id that would step outside its prefix', async () => {
    await expect(store.putPart('../audit', 0, Buffer.from('x'))).rejects.toThrow(/not one the agent gives/);
    await expect(store.read('a/b')).rejects.toThrow(/not one the agent gives/);
  });

  it('refuses a read over its bound before reading any part, naming the size and where the parts are', async () => {
    await store.putPart('sess-big', 0, Buffer.alloc(600, 'a'));
    await store.putPart('sess-big', 1, Buffer.alloc(500, 'b'));
    await expect(store.read('sess-big', 1099)).rejects.toMatchObject({
      code: 'payload_too_large',
      bytes: 1100,
      message:
        "session sess-big's recording is 1100 bytes, more than the 1099 bytes Kubeport plays back; copy its parts from " +
        's3://kubeport-recordings/sessions/sess-big/ (aws s3 cp --recursive) and join them in order into a .cast file (asciinema plays it)',
    });
    expect((await store.read('sess-big', 1100))!.length).toBe(1100);
  });
});
