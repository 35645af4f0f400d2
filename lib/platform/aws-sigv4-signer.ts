// Signs HTTP calls with AWS Signature Version 4 for API Gateway (service execute-api), so its
// AWS_IAM authorizer decides who may call: tctl --aws-iam (break-glass) with the caller's own
// credentials, and the agent with its ECS task role (its TLS certificate, POST /webapi/iam/host-cert).
// Node-only and free of any entry point's errors; the SDK modules load only when a call is signed.
import { randomBytes } from 'node:crypto';
import { sigV4UriEncode } from '../core/aws-caller.js';
import type { Clock } from '../core/ports.js';
import { NodeSha256 } from './node-sha256.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Credentials fixed for the signer's life (tctl), or asked for at each call (the agent: task role credentials rotate). */
export type AwsCredentialSource = AwsCredentials | (() => Promise<AwsCredentials>);

/** A call about to be sent, in the shape the API client hands to a signer. */
export interface SignableRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface SigV4RequestSigner {
  sign(request: SignableRequest): Promise<SignableRequest>;
}

export const EXECUTE_API_SERVICE = 'execute-api';
export const SIGNED_CALL_ID_HEADER = 'x-kubeport-call-id';

export { NodeSha256 };

/** The region of an API Gateway default host name (ID.execute-api.REGION.amazonaws.com), if it is one. */
export function regionOfApiHost(host: string): string | undefined {
  return /\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/.exec(host.replace(/:\d+$/, ''))?.[1];
}

/** The default chain found nothing; `why` is the chain's own first line. Each entry point says what to do. */
export class AwsCredentialsNotFound extends Error {
  constructor(readonly why: string) {
    super(`no usable AWS credentials (${why})`);
    this.name = 'AwsCredentialsNotFound';
  }
}

/**
 * A provider over the default credential chain (environment, SSO and shared files, container and
 * instance roles): it keeps what it found and asks again before temporary credentials expire.
 */
export async function defaultAwsCredentialProvider(): Promise<() => Promise<AwsCredentials>> {
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  const provider = defaultProvider();
  return async () => {
    try {
      const found = await provider();
      return {
        accessKeyId: found.accessKeyId,
        secretAccessKey: found.secretAccessKey,
        ...(found.sessionToken ? { sessionToken: found.sessionToken } : {}),
      };
    } catch (error) {
      throw new AwsCredentialsNotFound(error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error));
    }
  };
}

/** The default chain's credentials once (tctl); AwsCredentialsNotFound when it finds none. */
export async function defaultAwsCredentials(): Promise<AwsCredentials> {
  return (await defaultAwsCredentialProvider())();
}

/** Signs a call as SigV4 does for API Gateway; the URL sent is the one signed, query in canonical form. */
export function awsSigV4Signer(options: { region: string; credentials: AwsCredentialSource; clock: Clock }): SigV4RequestSigner {
  return {
    async sign(request: SignableRequest): Promise<SignableRequest> {
      const [{ SignatureV4 }, { HttpRequest }] = await Promise.all([import('@smithy/signature-v4'), import('@smithy/protocol-http')]);
      const url = new URL(request.url);
      const query: Record<string, string | string[]> = {};
      for (const [name, value] of url.searchParams) {
        const before = query[name];
        query[name] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
      }
      const signer = new SignatureV4({
        service: EXECUTE_API_SERVICE,
        region: options.region,
        credentials: options.credentials,
        sha256: NodeSha256,
      });
      const signed = await signer.sign(
        new HttpRequest({
          method: request.method,
          protocol: url.protocol,
          hostname: url.hostname,
          ...(url.port ? { port: Number(url.port) } : {}),
          path: url.pathname,
          query,
          // The host header is signed; fetch sends the same value from the URL. The request id
          // makes each signature new, so the function's one-use check never refuses a second
          // identical call made in the same second.
          headers: { ...request.headers, host: url.host, [SIGNED_CALL_ID_HEADER]: randomBytes(16).toString('hex') },
          body: request.body,
        }),
        { signingDate: options.clock.now() },
      );
      const headers = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== 'host'));
      const canonicalQuery = [...url.searchParams].map(([name, value]) => `${sigV4UriEncode(name)}=${sigV4UriEncode(value)}`).join('&');
      return { ...request, url: `${url.origin}${url.pathname}${canonicalQuery ? `?${canonicalQuery}` : ''}`, headers };
    },
  };
}
