import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { KMSClient } from '@aws-sdk/client-kms';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';

export interface DynamoClientOptions {
  region: string;
  /** A non-default AWS endpoint; omit to use the regional one. */
  endpoint?: string;
  /**
   * The embedded store's Unix socket (local mode, tests); takes the place of an endpoint. A
   * function is asked at each new connection: a store restarted on the same data listens on a
   * fresh socket (see private-socket.ts), and a client that outlives it follows.
   */
  socketPath?: string | (() => string);
  /** Where credentials come from; omit for the SDK's default provider chain. Ignored with socketPath. */
  credentials?: DynamoDBClientConfig['credentials'];
}

export interface S3ClientOptions extends DynamoClientOptions {
  forcePathStyle: boolean;
}

// The embedded stores accept any signature (the socket's directory permissions are their access
// control), so local use must not depend on an AWS account, a profile or environment variables.
const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Sends every request of a client over one Unix socket, whatever host the URL names. */
class UnixSocketAgent extends Agent {
  constructor(private readonly socketPath: string | (() => string)) {
    super({ keepAlive: true });
  }

  createConnection(): Socket {
    return connect(typeof this.socketPath === 'string' ? this.socketPath : this.socketPath());
  }
}

function endpointConfig(options: DynamoClientOptions) {
  if (options.socketPath !== undefined) {
    return {
      endpoint: 'http://localhost',
      credentials: localCredentials,
      requestHandler: { httpAgent: new UnixSocketAgent(options.socketPath) },
    };
  }
  return {
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  };
}

export function makeDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  const client = new DynamoDBClient({ region: options.region, ...endpointConfig(options) });
  // No logger is configured, yet the SDK's logger middleware copies every input and output
  // (filtering sensitive members by schema) for it: a tenth of what an audit write costs the agent.
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

export function makeS3Client(options: S3ClientOptions): S3Client {
  return new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    ...endpointConfig(options),
    ...(options.socketPath !== undefined
      ? {
          // The embedded S3 predates flexible checksums; only send them when an operation demands it.
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
}

/** Options of the clients that only ever talk to AWS itself (or a stand-in named by an endpoint). */
export interface AwsClientOptions {
  region: string;
  /** A non-default endpoint; omit to use the regional one, or the SDK's AWS_ENDPOINT_URL_<SERVICE> when set. */
  endpoint?: string;
  /** Explicit credentials (tests acting as several principals) or a provider of them; omit for the default provider chain. */
  credentials?: DynamoDBClientConfig['credentials'];
  /**
   * How long one attempt may take before the SDK gives up on it (and retries). The SDK waits
   * forever by default: a KMS that stops answering would hold a login until the function's timeout.
   * @default 5000
   */
  requestTimeoutMs?: number;
}

function awsClientConfig(options: AwsClientOptions) {
  const requestTimeout = options.requestTimeoutMs ?? 5_000;
  return {
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    requestHandler: { connectionTimeout: Math.min(requestTimeout, 2_000), requestTimeout, throwOnRequestTimeout: true },
  };
}

export function makeKmsClient(options: AwsClientOptions): KMSClient {
  const client = new KMSClient(awsClientConfig(options));
  // As for DynamoDB: no logger is configured, so the copy of each input and output made for one is waste.
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

export function makeSecretsManagerClient(options: AwsClientOptions): SecretsManagerClient {
  const client = new SecretsManagerClient(awsClientConfig(options));
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

export function makeEksClient(options: AwsClientOptions): EKSClient {
  const client = new EKSClient(awsClientConfig(options));
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

export function makeStsClient(options: AwsClientOptions): STSClient {
  const client = new STSClient(awsClientConfig(options));
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

/** Route 53's API is global: its one endpoint signs in us-east-1 whatever region the caller runs in. */
export const ROUTE_53_SIGNING_REGION = 'us-east-1';

/** Route 53 (the economy agent's address record); AWS_ENDPOINT_URL_ROUTE_53 reaches a stand-in. */
export function makeRoute53Client(options: Omit<AwsClientOptions, 'region'>): Route53Client {
  const client = new Route53Client(awsClientConfig({ ...options, region: ROUTE_53_SIGNING_REGION }));
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
