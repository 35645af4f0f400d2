// Reads the audit archive whole, as tests check that every stored event reached it.
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ARCHIVE_PREFIX } from '../../lib/adapters/aws/s3-audit-archive.js';
import type { AuditEvent } from '../../lib/core/ports.js';

/** Every archived object's events, object by object. */
export async function archivedObjects(s3: S3Client, bucket: string): Promise<AuditEvent[][]> {
  const objects: AuditEvent[][] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: ARCHIVE_PREFIX, ContinuationToken: token }));
    for (const { Key } of page.Contents ?? []) {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      const text = gunzipSync(await object.Body!.transformToByteArray()).toString('utf8');
      objects.push(
        text
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as AuditEvent),
      );
    }
    token = page.NextContinuationToken;
  } while (token);
  return objects;
}
