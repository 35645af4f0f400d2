// Session recordings in S3, one object per part: sessions/<sid>/<index padded to 6>.cast.
// Not a multipart upload: S3 multipart parts must be 5 MiB or more, and an upload never completed
// (the agent died) is invisible. Separate objects are readable the moment each is stored, so a
// session cut short still plays up to its last stored part.
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { RecordingTooLargeError } from '../../core/errors.js';
import type { RecordingStore } from '../../core/ports.js';

const PREFIX = 'sessions/';
/** Six digits sort as numbers do up to a million parts: over a month at one part every 5 s. */
const INDEX_DIGITS = 6;
/** A session id names a key prefix: only the characters of the agent's UUIDs (and a little more). */
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function recordingPartKey(sessionId: string, index: number): string {
  return `${sessionPrefix(sessionId)}${String(index).padStart(INDEX_DIGITS, '0')}.cast`;
}

function sessionPrefix(sessionId: string): string {
  if (!SESSION_ID.test(sessionId)) throw new Error(`session id ${JSON.stringify(sessionId)} is not one the agent gives`);
  return `${PREFIX}${sessionId}/`;
}

export class S3RecordingStore implements RecordingStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async putPart(sessionId: string, index: number, body: Buffer): Promise<void> {
    if (!Number.isInteger(index) || index < 0 || index >= 10 ** INDEX_DIGITS) throw new Error(`part index ${index} is out of range`);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: recordingPartKey(sessionId, index),
        Body: body,
        ContentType: 'application/x-asciicast',
      }),
    );
  }

  async read(sessionId: string, maxBytes?: number): Promise<Buffer | undefined> {
    const prefix = sessionPrefix(sessionId);
    const keys: string[] = [];
    let bytes = 0;
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const item of page.Contents ?? []) {
        if (!item.Key || !/^\d+\.cast$/.test(item.Key.slice(prefix.length))) continue;
        keys.push(item.Key);
        bytes += item.Size ?? 0;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (keys.length === 0) return undefined;
    if (maxBytes !== undefined && bytes > maxBytes)
      throw new RecordingTooLargeError(sessionId, bytes, maxBytes, `${this.url(sessionId)} (aws s3 cp --recursive)`);
    keys.sort();
    const parts: Buffer[] = [];
    for (const key of keys) {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      parts.push(Buffer.from(await object.Body!.transformToByteArray()));
    }
    return Buffer.concat(parts);
  }

  url(sessionId: string): string {
    return `s3://${this.bucket}/${sessionPrefix(sessionId)}`;
  }
}
