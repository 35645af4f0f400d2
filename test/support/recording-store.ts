// Session recordings for tests as the agent stores them: the S3 adapter over an embedded S3 on loopback.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeS3Client } from '../../lib/adapters/aws/clients.js';
import { S3RecordingStore } from '../../lib/adapters/aws/s3-recording-store.js';
import { startEmbeddedS3 } from '../../lib/adapters/local/embedded-s3.js';
import type { RecordingStore } from '../../lib/core/ports.js';

export async function startRecordingStore(): Promise<{ store: RecordingStore; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kubeport-recordings-'));
  const s3 = await startEmbeddedS3({ dataDir, buckets: ['kubeport-recordings'] });
  const client = makeS3Client({ socketPath: s3.socketPath, region: 'local', forcePathStyle: true });
  return {
    store: new S3RecordingStore(client, 'kubeport-recordings'),
    close: async () => {
      client.destroy();
      await s3.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
