// tctl --aws-iam: signs each API call with the caller's AWS credentials (SigV4, service
// execute-api), so API Gateway's AWS_IAM authorizer decides who may call, with no Kubeport
// certificate and no GitHub involved. The SDK modules load only in this mode.
import { randomBytes } from 'node:crypto';
import { sigV4UriEncode } from '../core/aws-caller.js';
import type { Clock } from '../core/ports.js';
import { NodeSha256 } from '../platform/node-sha256.js';
import type { OutgoingRequest, RequestSigner } from './api-client.js';
import { UsageError } from './usage-error.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export const EXECUTE_API_SERVICE = 'execute-api';
export const SIGNED_CALL_ID_HEADER = 'x-kubeport-call-id';

export { NodeSha256 };

/** The region of an API Gateway default host name (ID.execute-api.REGION.amazonaws.com), if it is one. */
export function regionOfApiHost(host: string): string | undefined {
  return /\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/.exec(host.replace(/:\d+$/, ''))?.[1];
}

const HOW_TO_PROVIDE =
  'set AWS_PROFILE to a profile (after aws sso login --profile NAME for an SSO one), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)';

/** The default credential chain (environment, SSO and shared files, container and instance roles); a clear line when it finds none. */
export async function defaultAwsCredentials(): Promise<AwsCredentials> {
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  try {
    const found = await defaultProvider()();
    return {
      accessKeyId: found.accessKeyId,
      secretAccessKey: found.secretAccessKey,
      ...(found.sessionToken ? { sessionToken: found.sessionToken } : {}),
    };
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UsageError(`--aws-iam found no usable AWS credentials (${why}); ${HOW_TO_PROVIDE}`);
  }
}

/** Signs a call as SigV4 does for API Gateway; the URL sent is the one signed, query in canonical form. */
export function awsSigV4Signer(options: { region: string; credentials: AwsCredentials; clock: Clock }): RequestSigner {
  return {
    async sign(request: OutgoingRequest): Promise<OutgoingRequest> {
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
