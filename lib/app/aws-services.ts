// What each function on AWS runs with, built from its parsed environment: the DynamoDB stores, KMS
// for the CAs and sealed secrets, GitHub, recordings in S3. Every client uses the SDK's default
// credential chain and its own endpoint resolution, so AWS_ENDPOINT_URL_<SERVICE> reaches
// loopback stand-ins with nothing of ours in between.
import * as z from 'zod';
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

/** What Lambda itself sets (never the stack: the name is reserved). */
const runtimeSchema = z.object({ AWS_REGION: z.string().min(1, 'AWS_REGION is empty; Lambda sets it') });

function region(env: Env): string {
  return parseEnvironment(runtimeSchema, env).AWS_REGION;
}

/** The encryption context of sealed secrets: the same in both API functions, another deployment's does not open. */
function secretsPurpose(clusterName: string): string {
  return `kubeport/${clusterName}/secrets`;
}

// A GitHub login opens its connector's sealed secret at its start and at its callback: one KMS
// Decrypt for both. Short, so a secret replaced with tctl is not used long after.
const OPENED_SECRET_TTL_MS = 60_000;

// A refresh happens only after GitHub refused the kept secret, and login attempts are limited per
// source, so reads stay few; a rotation right after a read must still work at once.
const SECRET_REFRESH_INTERVAL_MS = 0;

/** The stores and sealing both API functions use. */
function apiServices(config: z.infer<typeof apiEnvironmentSchema>, awsRegion: string) {
  const dynamo = makeDynamoClient({ region: awsRegion });
  const kms = makeKmsClient({ region: awsRegion });
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
    },
  };
}

export function authServices(config: z.infer<typeof authEnvironmentSchema>, env: Env, log: (message: string) => void): ServiceDeps {
  const awsRegion = region(env);
  const { kms, deps } = apiServices(config, awsRegion);
  const keys = new KmsSigningKeys(kms, {
    signerRoleArns: config.KUBEPORT_CA_SIGNER_ROLE_ARNS,
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
          githubClientSecret: new SecretsManagerSecret(makeSecretsManagerClient({ region: awsRegion }), secretName, {
            clock: deps.clock,
            minRefreshIntervalMs: SECRET_REFRESH_INTERVAL_MS,
          }),
        }
      : {}),
  };
}

export function adminServices(config: z.infer<typeof adminEnvironmentSchema>, env: Env, log: (message: string) => void): ServiceDeps {
  const awsRegion = region(env);
  const { kms, deps } = apiServices(config, awsRegion);
  // The admin function verifies signed calls against the CAs but never signs: its role has no
  // kms:Sign, and nothing here asks for it.
  const keys = new KmsExistingKeys(kms, 'admin function');
  return {
    ...deps,
    cas: new StoredCertAuthorities(
      { resources: deps.resources, keys, clock: deps.clock, random: deps.random },
      { log, retireExpired: false },
    ),
    recordings: new S3RecordingStore(makeS3Client({ region: awsRegion, forcePathStyle: false }), config.KUBEPORT_RECORDINGS_BUCKET),
  };
}

export function caBootstrapServices(config: z.infer<typeof caBootstrapEnvironmentSchema>, env: Env) {
  const awsRegion = region(env);
  const dynamo = makeDynamoClient({ region: awsRegion });
  const kms = makeKmsClient({ region: awsRegion });
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
