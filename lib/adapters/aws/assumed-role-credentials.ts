// Credentials of a role in another account, for an `eks` cluster source that names a role: the
// agent's own credentials assume it, and the session is reused until shortly before it expires.
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { makeStsClient } from './clients.js';
import { KubeportError } from '../../core/errors.js';
import type { Clock } from '../../core/ports.js';
import type { AwsCredentialIdentity, AwsCredentialProvider } from './eks-token.js';

export interface AssumedRoleOptions {
  roleArn: string;
  /** Shows in the other account's CloudTrail and EKS audit log as who acted. */
  sessionName: string;
  region: string;
  /** The agent's own credentials (the default chain on Fargate: the task role). */
  credentials: AwsCredentialProvider;
  clock: Clock;
  /** A non-default STS endpoint (AWS_ENDPOINT_URL_STS); omit for the regional one. */
  stsEndpoint?: string;
}

const SESSION_SECONDS = 3600;
/** A session is replaced this long before it expires, so a token signed with it lives its full renewal period. */
const REPLACE_BEFORE_EXPIRY_MS = 15 * 60_000;

export function assumedRoleCredentials(options: AssumedRoleOptions): AwsCredentialProvider {
  const client = makeStsClient({
    region: options.region,
    credentials: options.credentials,
    ...(options.stsEndpoint === undefined ? {} : { endpoint: options.stsEndpoint }),
  });
  let current: AwsCredentialIdentity | undefined;
  let assuming: Promise<AwsCredentialIdentity> | undefined;
  const assume = async (): Promise<AwsCredentialIdentity> => {
    let answer;
    try {
      answer = await client.send(
        new AssumeRoleCommand({ RoleArn: options.roleArn, RoleSessionName: options.sessionName, DurationSeconds: SESSION_SECONDS }),
      );
    } catch (error) {
      throw new KubeportError(
        'unavailable',
        `the agent could not assume ${options.roleArn}: ${error instanceof Error ? error.message : String(error)}; the role's trust policy must allow the agent's task role, and for a role in another account the task role's own policy must allow sts:AssumeRole on it too`,
        { cause: error },
      );
    }
    const issued = answer.Credentials;
    if (!issued?.AccessKeyId || !issued.SecretAccessKey || !issued.SessionToken || !issued.Expiration) {
      throw new KubeportError('bad_gateway', `STS returned no credentials for ${options.roleArn}`);
    }
    current = {
      accessKeyId: issued.AccessKeyId,
      secretAccessKey: issued.SecretAccessKey,
      sessionToken: issued.SessionToken,
      expiration: issued.Expiration,
    };
    return current;
  };
  return () => {
    const now = options.clock.now().getTime();
    if (current?.expiration && now < current.expiration.getTime() - REPLACE_BEFORE_EXPIRY_MS) return Promise.resolve(current);
    assuming ??= assume().finally(() => {
      assuming = undefined;
    });
    return assuming;
  };
}
