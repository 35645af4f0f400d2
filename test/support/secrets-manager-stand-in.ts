// AWS Secrets Manager on loopback, speaking its JSON 1.1 protocol so
// @aws-sdk/client-secrets-manager runs unchanged (`endpoint` or AWS_ENDPOINT_URL_SECRETS_MANAGER).
// The test writes secrets with put(); each put is a new version labelled AWSCURRENT, the one before
// AWSPREVIOUS, as a rotation leaves them.
import { randomBytes, randomUUID } from 'node:crypto';
import { AwsJsonError, optionalString, requiredString, startAwsJsonStandIn, injectedFailures } from './aws-json-stand-in.js';

interface SecretVersion {
  versionId: string;
  value: string;
  createdAt: Date;
}

interface StoredSecret {
  name: string;
  arn: string;
  /** Newest last. */
  versions: SecretVersion[];
}

export interface SecretsManagerStandInOptions {
  /** @default 'us-east-1' */
  region?: string;
  /** @default '123456789012' */
  accountId?: string;
}

export interface SecretsManagerStandIn {
  url: string;
  region: string;
  /** Requests per operation (`GetSecretValue`...), failed ones included. */
  calls: Map<string, number>;
  /** Stores `value` as the secret's new current version (creating the secret); returns the secret's ARN and the version id. */
  put(name: string, value: string): { arn: string; versionId: string };
  /** The next `count` calls of `operation` fail with this AWS error type. */
  failNext(operation: string, errorType: string, count?: number): void;
  close(): Promise<void>;
}

export async function startSecretsManagerStandIn(options: SecretsManagerStandInOptions = {}): Promise<SecretsManagerStandIn> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const secrets = new Map<string, StoredSecret>();
  const failures = injectedFailures();

  const find = (secretId: string): StoredSecret => {
    const secret = secretId.startsWith('arn:') ? [...secrets.values()].find((s) => s.arn === secretId) : secrets.get(secretId);
    if (!secret) throw new AwsJsonError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  };
  const stages = (secret: StoredSecret, version: SecretVersion): string[] => {
    const at = secret.versions.indexOf(version);
    return at === secret.versions.length - 1 ? ['AWSCURRENT'] : at === secret.versions.length - 2 ? ['AWSPREVIOUS'] : [];
  };

  const standIn = await startAwsJsonStandIn(
    'secretsmanager',
    {
      GetSecretValue: (call) => {
        const secret = find(requiredString(call.body, 'SecretId'));
        const versionId = optionalString(call.body, 'VersionId');
        const stage = optionalString(call.body, 'VersionStage') ?? (versionId === undefined ? 'AWSCURRENT' : undefined);
        const version = secret.versions.find(
          (v) => (versionId === undefined || v.versionId === versionId) && (stage === undefined || stages(secret, v).includes(stage)),
        );
        if (!version)
          throw new AwsJsonError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for the version.");
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: version.versionId,
          SecretString: version.value,
          VersionStages: stages(secret, version),
          CreatedDate: version.createdAt.getTime() / 1000,
        };
      },
      DescribeSecret: (call) => {
        const secret = find(requiredString(call.body, 'SecretId'));
        const newest = secret.versions.at(-1)!;
        return {
          ARN: secret.arn,
          Name: secret.name,
          CreatedDate: secret.versions[0]!.createdAt.getTime() / 1000,
          LastChangedDate: newest.createdAt.getTime() / 1000,
          VersionIdsToStages: Object.fromEntries(
            secret.versions.filter((v) => stages(secret, v).length > 0).map((v) => [v.versionId, stages(secret, v)]),
          ),
        };
      },
    },
    { before: failures.before },
  );

  return {
    url: standIn.url,
    region,
    calls: standIn.calls,
    put(name, value) {
      let secret = secrets.get(name);
      if (!secret) {
        // Secrets Manager appends six random characters to a secret's ARN.
        const suffix = randomBytes(6).toString('base64url').slice(0, 6);
        secret = { name, arn: `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${suffix}`, versions: [] };
        secrets.set(name, secret);
      }
      const version = { versionId: randomUUID(), value, createdAt: new Date() };
      secret.versions.push(version);
      return { arn: secret.arn, versionId: version.versionId };
    },
    failNext: failures.failNext,
    close: standIn.close,
  };
}
