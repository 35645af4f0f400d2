// What each function on AWS runs with, built from its parsed environment: the DynamoDB stores, KMS
// for the CAs and sealed secrets, GitHub, recordings in S3. Every client takes its credentials from
// the environment, where Lambda always puts the role's, and resolves its endpoint itself, so
// AWS_ENDPOINT_URL_<SERVICE> reaches loopback stand-ins with nothing of ours in between.
import { fromEnv } from '@aws-sdk/credential-provider-env';
import * as z from 'zod';
import type { AgentHostCertConfig } from '../services/agent-host-certificate.js';
import type { ServiceDeps } from '../services/deps.js';
import { StoredCertAuthorities } from '../services/cert-authorities.js';
import { makeDynamoClient, makeKmsClient, makeS3Client, makeSecretsManagerClient } from '../adapters/aws/clients.js';
import { DynamoAuditLog } from '../adapters/aws/dynamo-audit-log.js';
import { DynamoResourceStore } from '../adapters/aws/dynamo-resource-store.js';
import { DynamoStateStore } from '../adapters/aws/dynamo-state-store.js';
import {
  type adminEnvironmentSchema,
  type apiEnvironmentSchema,
  type authEnvironmentSchema,
  type caBootstrapEnvironmentSchema,
  parseEnvironment,
} from '../adapters/aws/function-environment.js';
import { KmsExistingKeys } from '../adapters/aws/kms-existing-keys.js';
import { KmsSecretBox } from '../adapters/aws/kms-secret-box.js';
import { KmsSigningKeys } from '../adapters/aws/kms-signing-keys.js';
import { S3RecordingStore } from '../adapters/aws/s3-recording-store.js';
import { SecretsManagerSecret } from '../adapters/aws/secrets-manager-secret.js';
import { GitHubHttpApi } from '../adapters/github/github-http-api.js';
import { systemClock, systemRandom } from '../adapters/system.js';

type Env = Record<string, string | undefined>;
type ClientBase = ReturnType<typeof clientBase>;

/** What Lambda itself sets (never the stack: the name is reserved). */
const runtimeSchema = z.object({ AWS_REGION: z.string().min(1, 'AWS_REGION is empty; Lambda sets it') });

/**
 * What every client is built with. Credentials from the environment only: the default chain would
 * also try SSO, profiles, web identity and the instance metadata service, none of which a function
 * has, and its providers (with their SSO and STS clients) would be a third of each bundle
 * (lambda-bundles.ts leaves them out).
 */
function clientBase(env: Env) {
  return { region: parseEnvironment(runtimeSchema, env).AWS_REGION, credentials: fromEnv() };
}

/** The encryption context of sealed secrets: the same in both API functions, another deployment's does not open. */
function secretsPurpose(clusterName: string): string {
  return `kubeport/${clusterName}/secrets`;
}

// A GitHub login opens its connector's sealed secret at its start and at its callback: one KMS
// Decrypt for both. Short, so a secret replaced with tctl is not used long after.
const OPENED_SECRET_TTL_MS = 60_000;

// A refresh happens only after GitHub refused the kept secret. Without a floor, every refused login
// (a wrong code, a flood of forged callbacks) would be one more GetSecretValue, paid for and
// throttled; with a long one, a login right after a rotation fails until the floor has passed. Five
// seconds bounds the reads to one per five seconds per warm function whatever is sent, and a person
// who logs in within seconds of a rotation and is refused succeeds on the retry.
const SECRET_REFRESH_INTERVAL_MS = 5_000;

/** The stores and sealing both API functions use. */
function apiServices(config: z.infer<typeof apiEnvironmentSchema>, base: ClientBase) {
  const dynamo = makeDynamoClient(base);
  const kms = makeKmsClient(base);
  return {
    kms,
    deps: {
      clusterName: config.KUBEPORT_CLUSTER_NAME,
      resources: new DynamoResourceStore(dynamo, config.KUBEPORT_RESOURCES_TABLE),
      state: new DynamoStateStore(dynamo, config.KUBEPORT_STATE_TABLE, systemClock),
      audit: new DynamoAuditLog(dynamo, config.KUBEPORT_AUDIT_TABLE, systemClock),
      secrets: new KmsSecretBox(kms, config.KUBEPORT_SECRETS_KEY_ID, secretsPurpose(config.KUBEPORT_CLUSTER_NAME), {
        clock: systemClock,
        ttlMs: OPENED_SECRET_TTL_MS,
      }),
      clock: systemClock,
      random: systemRandom,
      agentAddress: config.KUBEPORT_AGENT_ADDRESS,
      serverVersion: config.KUBEPORT_SERVER_VERSION,
      ...(config.KUBEPORT_GITHUB_CLIENT_ID ? { githubClientId: config.KUBEPORT_GITHUB_CLIENT_ID } : {}),
      githubEndpoints: { endpointUrl: config.KUBEPORT_GITHUB_ENDPOINT_URL, apiEndpointUrl: config.KUBEPORT_GITHUB_API_ENDPOINT_URL },
    },
  };
}

export function authServices(config: z.infer<typeof authEnvironmentSchema>, env: Env, log: (message: string) => void): ServiceDeps {
  const base = clientBase(env);
  const { kms, deps } = apiServices(config, base);
  const keys = new KmsSigningKeys(kms, {
    signerRoleArns: config.KUBEPORT_CA_SIGNER_ROLE_ARNS,
    readerRoleArns: config.KUBEPORT_CA_READER_ROLE_ARNS,
    deploymentTag: config.KUBEPORT_CA_KEY_TAG,
    clusterName: config.KUBEPORT_CLUSTER_NAME,
  });
  const secretName = config.KUBEPORT_GITHUB_SECRET_NAME;
  return {
    ...deps,
    cas: new StoredCertAuthorities(
      { resources: deps.resources, keys, clock: deps.clock, random: deps.random, audit: deps.audit },
      { log, retireExpired: true },
    ),
    caKeys: keys,
    github: new GitHubHttpApi(),
    ...(secretName
      ? {
          githubClientSecret: new SecretsManagerSecret(makeSecretsManagerClient(base), secretName, {
            clock: deps.clock,
            minRefreshIntervalMs: SECRET_REFRESH_INTERVAL_MS,
          }),
        }
      : {}),
  };
}

/** The agent the stack deployed, if any: both variables or neither (a half-configured route would refuse every agent). */
export function agentHostCertConfig(config: z.infer<typeof authEnvironmentSchema>): AgentHostCertConfig | undefined {
  const roleArn = config.KUBEPORT_AGENT_ROLE_ARN;
  const hostNames = config.KUBEPORT_AGENT_HOST_NAMES ?? [];
  if (!roleArn && hostNames.length === 0) return undefined;
  if (!roleArn || hostNames.length === 0) {
    throw new Error('bad function configuration: KUBEPORT_AGENT_ROLE_ARN and KUBEPORT_AGENT_HOST_NAMES are set together or not at all');
  }
  return { roleArn, hostNames };
}

export function adminServices(config: z.infer<typeof adminEnvironmentSchema>, env: Env, log: (message: string) => void): ServiceDeps {
  const base = clientBase(env);
  const { kms, deps } = apiServices(config, base);
  // The admin function verifies signed calls against the CAs but never signs: its role has no
  // kms:Sign, and nothing here asks for it.
  const keys = new KmsExistingKeys(kms, 'admin function');
  return {
    ...deps,
    cas: new StoredCertAuthorities(
      { resources: deps.resources, keys, clock: deps.clock, random: deps.random },
      { log, retireExpired: false },
    ),
    recordings: new S3RecordingStore(makeS3Client({ ...base, forcePathStyle: false }), config.KUBEPORT_RECORDINGS_BUCKET),
  };
}

export function caBootstrapServices(config: z.infer<typeof caBootstrapEnvironmentSchema>, env: Env) {
  const base = clientBase(env);
  const dynamo = makeDynamoClient(base);
  const kms = makeKmsClient(base);
  return {
    clusterName: config.KUBEPORT_CLUSTER_NAME,
    resources: new DynamoResourceStore(dynamo, config.KUBEPORT_RESOURCES_TABLE),
    audit: new DynamoAuditLog(dynamo, config.KUBEPORT_AUDIT_TABLE, systemClock),
    keys: new KmsExistingKeys(kms, 'CA bootstrap'),
    clock: systemClock,
    random: systemRandom,
    initialKeys: { user: config.KUBEPORT_USER_CA_KEY_ID, host: config.KUBEPORT_HOST_CA_KEY_ID },
  };
}
