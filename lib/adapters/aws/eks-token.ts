// The bearer token EKS accepts for an IAM identity: "k8s-aws-v1." and the base64url (no padding)
// of an STS GetCallerIdentity URL presigned with the cluster's name in a signed x-k8s-aws-id
// header, so EKS's authenticator, replaying the URL to STS, learns who signed it and for which
// cluster. The token is bearer material: it is cached, shared, and never logged or put in an error.
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { sigV4UriEncode } from '../../core/aws-caller.js';
import { KubeportError } from '../../core/errors.js';
import type { Clock } from '../../core/ports.js';
import { NodeSha256 } from '../../platform/node-sha256.js';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const EKS_CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** EKS accepts a token for 15 minutes after its X-Amz-Date, whatever X-Amz-Expires says. */
export const EKS_TOKEN_LIFETIME_MS = 15 * 60_000;
/** Renewed well inside its life, so a request that starts late never carries a dying token. */
export const EKS_TOKEN_RENEW_AFTER_MS = 10 * 60_000;
/** What aws-iam-authenticator and `aws eks get-token` put in X-Amz-Expires (STS ignores it here). */
export const EKS_TOKEN_PRESIGN_EXPIRES_S = 60;
/** Temporary credentials are dropped this long before they expire: the token dies with them. */
const CREDENTIALS_MARGIN_MS = 60_000;

export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** The shape of the SDK's credential providers (defaultProvider() on Fargate: the task role). */
export type AwsCredentialProvider = () => Promise<AwsCredentialIdentity>;

export interface EksTokenSourceOptions {
  clusterName: string;
  region: string;
  credentials: AwsCredentialProvider;
  clock: Clock;
  /** A non-default STS endpoint (AWS_ENDPOINT_URL_STS, read by the composition); omit for the regional one. */
  stsEndpoint?: string;
  /**
   * How long a token is used before a new one is signed (KUBEPORT_EKS_TOKEN_RENEW_SECONDS); kept
   * at least a minute inside EKS's 15. @default EKS_TOKEN_RENEW_AFTER_MS
   */
  renewAfterMs?: number;
}

export interface EksToken {
  token: string;
  /** When EKS stops accepting it. */
  expiresAt: Date;
  /** When the source signs a new one. */
  renewAt: Date;
}

export const regionalStsEndpoint = (region: string) => `https://sts.${region}.amazonaws.com`;

/** One cluster's token, signed once per renewal however many callers ask at once. */
export class EksTokenSource {
  private current?: EksToken;
  private signing?: Promise<EksToken>;

  constructor(private readonly options: EksTokenSourceOptions) {}

  async token(): Promise<string> {
    return (await this.fresh()).token;
  }

  fresh(): Promise<EksToken> {
    const now = this.options.clock.now().getTime();
    if (this.current && now < this.current.renewAt.getTime()) return Promise.resolve(this.current);
    this.signing ??= this.sign().finally(() => {
      this.signing = undefined;
    });
    const previous = this.current;
    // A failed renewal (credentials briefly unavailable) keeps the token it meant to replace while
    // EKS still accepts it; the next call tries again.
    if (previous && now < previous.expiresAt.getTime() - CREDENTIALS_MARGIN_MS) return this.signing.catch(() => previous);
    return this.signing;
  }

  private async sign(): Promise<EksToken> {
    const { clusterName, region } = this.options;
    let credentials: AwsCredentialIdentity;
    try {
      credentials = await this.options.credentials();
    } catch (error) {
      throw new KubeportError(
        'unavailable',
        `no AWS credentials to sign the EKS token for cluster ${clusterName}: ${error instanceof Error ? error.message : String(error)}; check the agent's task role or AWS credentials`,
        { cause: error },
      );
    }
    const signedAt = this.options.clock.now();
    const url = await presignedCallerIdentityUrl({
      clusterName,
      region,
      credentials,
      signedAt,
      endpoint: this.options.stsEndpoint ?? regionalStsEndpoint(region),
    });
    const expiresAt = new Date(
      Math.min(signedAt.getTime() + EKS_TOKEN_LIFETIME_MS, credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY),
    );
    const renewAt = new Date(
      Math.max(
        signedAt.getTime(),
        Math.min(
          signedAt.getTime() +
            Math.min(this.options.renewAfterMs ?? EKS_TOKEN_RENEW_AFTER_MS, EKS_TOKEN_LIFETIME_MS - CREDENTIALS_MARGIN_MS),
          (credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY) - CREDENTIALS_MARGIN_MS,
        ),
      ),
    );
    this.current = { token: EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url'), expiresAt, renewAt };
    return this.current;
  }
}

interface PresignInput {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentity;
  signedAt: Date;
  endpoint: string;
}

async function presignedCallerIdentityUrl(input: PresignInput): Promise<string> {
  const endpoint = new URL(input.endpoint);
  const signer = new SignatureV4({
    service: 'sts',
    region: input.region,
    credentials: {
      accessKeyId: input.credentials.accessKeyId,
      secretAccessKey: input.credentials.secretAccessKey,
      ...(input.credentials.sessionToken !== undefined ? { sessionToken: input.credentials.sessionToken } : {}),
    },
    sha256: NodeSha256,
  });
  const presigned = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      // Not an x-amz-* header, so the signer keeps it a header and signs it: the cluster binding.
      headers: { host: endpoint.host, [EKS_CLUSTER_ID_HEADER]: input.clusterName },
    }),
    { signingDate: input.signedAt, expiresIn: EKS_TOKEN_PRESIGN_EXPIRES_S },
  );
  const query = Object.entries(presigned.query ?? {})
    .flatMap(([name, value]) => (Array.isArray(value) ? value : value === null ? [] : [value]).map((one) => [name, one] as const))
    .map(([name, value]) => `${sigV4UriEncode(name)}=${sigV4UriEncode(value)}`)
    .join('&');
  return `${endpoint.protocol}//${endpoint.host}/?${query}`;
}
