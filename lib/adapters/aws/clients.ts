import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';

export interface DynamoClientOptions {
  /** Set for the embedded store (local mode, tests); omit to use the regional AWS endpoint. */
  endpoint?: string;
  region: string;
}

export interface S3ClientOptions extends DynamoClientOptions {
  forcePathStyle: boolean;
}

// The embedded stores accept any signature, so local use must not depend on an AWS account,
// a profile or environment variables being present.
const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export function isLoopbackEndpoint(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return false;
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

export function makeDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  const local = isLoopbackEndpoint(options.endpoint);
  return new DynamoDBClient({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(local ? { credentials: localCredentials } : {}),
  });
}

export function makeS3Client(options: S3ClientOptions): S3Client {
  const local = isLoopbackEndpoint(options.endpoint);
  return new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(local
      ? {
          credentials: localCredentials,
          // The embedded S3 predates flexible checksums; only send them when an operation demands it.
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
}
