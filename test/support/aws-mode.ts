// Kubeport's functions as built for Lambda, on this machine: each bundle (built by
// buildLambdaBundle, as the stack builds it) runs in a process of its own whose environment holds
// only what Lambda and the stack would set, the SDK's AWS_ENDPOINT_URL_* variables pointing at
// loopback stand-ins (dynalite, s3rver, KMS, Secrets Manager) and static fake credentials, one
// access key per function so the KMS stand-in tells the functions' roles apart. API Gateway is the
// local adapter (lib/adapters/local/api-gateway-adapter.ts), which builds the v2 events.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { caKeyPolicyDocument } from '../../lib/adapters/aws/ca-key-policy.js';
import { makeDynamoClient, makeS3Client } from '../../lib/adapters/aws/clients.js';
import { DynamoAuditLog } from '../../lib/adapters/aws/dynamo-audit-log.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { S3RecordingStore } from '../../lib/adapters/aws/s3-recording-store.js';
import type { AdminEnvironment, AuthEnvironment, CaBootstrapEnvironment } from '../../lib/adapters/aws/function-environment.js';
import { createApiGatewayServer } from '../../lib/adapters/local/api-gateway-adapter.js';
import { startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';
import { startEmbeddedS3 } from '../../lib/adapters/local/embedded-s3.js';
import { systemClock } from '../../lib/adapters/system.js';
import { buildLambdaBundle, type LambdaName } from '../../lib/infra/lambda-bundles.js';
import { type BundledFunction, startBundledFunction } from './bundled-function.js';
import { GitHubStandIn } from './github-stand-in.js';
import { type KmsStandIn, startKmsStandIn } from './kms-stand-in.js';
import { forwardLoopbackTo } from './loopback-forwarder.js';
import { type SecretsManagerStandIn, startSecretsManagerStandIn } from './secrets-manager-stand-in.js';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const CLUSTER_NAME = 'kubeport-aws-test';
export const GITHUB_CLIENT_ID = 'Iv1.kubeportaws0001';
export const GITHUB_SECRET_NAME = 'kubeport/github-client-secret';
export const RECORDINGS_BUCKET = 'kubeport-recordings';
export const USER_CA_KEY = 'user-ca-key-0001';
export const HOST_CA_KEY = 'host-ca-key-0001';
/** The stack the CA bootstrap belongs to; CloudFormation's events name it. */
export const STACK_ID = `arn:aws:cloudformation:us-east-1:123456789012:stack/kubeport/0001`;
export const ADMIN_TEAM = 'acme/platform-admins';
const SECRETS_KEY = 'secrets-key-0001';

export const ROLES = {
  auth: `arn:aws:iam::${ACCOUNT}:role/kubeport-auth`,
  admin: `arn:aws:iam::${ACCOUNT}:role/kubeport-admin`,
  caBootstrap: `arn:aws:iam::${ACCOUNT}:role/kubeport-ca-bootstrap`,
} as const;
// s3rver knows the access key `local` (embedded-s3.ts): the admin function, which reads recordings, uses it.
/** The access key id each function's role calls with (the stand-ins tell the caller by it). */
export const ACCESS_KEYS: Record<LambdaName, string> = { auth: 'AKIDAUTHFUNCTION', admin: 'local', caBootstrap: 'AKIDCABOOTSTRAP' };

export interface CloudFormationAnswer {
  contentType: string | undefined;
  body: { Status: string; Reason?: string; PhysicalResourceId: string; Data?: Record<string, string> };
}

export interface AwsMode {
  /** host:port of the API (the local API Gateway adapter in front of the auth and admin bundles). */
  proxy: string;
  kms: KmsStandIn;
  secretsManager: SecretsManagerStandIn;
  github: GitHubStandIn;
  /** The test's own view of the tables the functions use. */
  resources: DynamoResourceStore;
  audit: DynamoAuditLog;
  /** The recordings bucket, as the agent writes to it. */
  recordings: S3RecordingStore;
  /** The environment the stack would give `name`, with `changes` (undefined removes a variable). */
  env(name: LambdaName, changes?: Record<string, string | undefined>): Record<string, string>;
  /** Starts the bundle of `name` with `env` (default: env(name)); closed with the rest. */
  start(name: LambdaName, env?: Record<string, string>): Promise<BundledFunction>;
  /** Runs a CloudFormation event through the CA bootstrap bundle; what it PUT to the ResponseURL. */
  cloudFormation(
    bootstrap: BundledFunction,
    type: 'Create' | 'Update',
    properties: Record<string, string | string[]>,
    oldProperties?: Record<string, string | string[]>,
    /** The stack the event names; this deployment's unless given. */
    stackId?: string,
  ): Promise<CloudFormationAnswer>;
  /** The custom resource's properties as the stack sets them: triggers only. */
  githubProperties(): Record<string, string | string[]>;
  /** Every log line of every function started so far. */
  logLines(): string[];
  close(): Promise<void>;
}

/** Builds the three bundles into a fresh directory; returns their paths. */
async function buildBundles(dir: string): Promise<Record<LambdaName, string>> {
  const names: LambdaName[] = ['auth', 'admin', 'caBootstrap'];
  const paths = await Promise.all(names.map((name) => buildLambdaBundle(name, join(dir, name))));
  return Object.fromEntries(names.map((name, i) => [name, paths[i]!])) as Record<LambdaName, string>;
}

export async function startAwsMode(githubSecret: string): Promise<AwsMode> {
  const closers: (() => Promise<void>)[] = [];
  const functions: BundledFunction[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const dir = mkdtempSync(join(tmpdir(), 'kubeport-aws-mode-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const bundles = await buildBundles(join(dir, 'bundles'));

    const dynamo = await startEmbeddedDynamoDb({});
    closers.push(() => dynamo.close());
    const dynamoUrl = await forwardLoopbackTo(dynamo.socketPath);
    closers.push(() => dynamoUrl.close());
    const dynamoClient = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
    closers.push(async () => dynamoClient.destroy());
    const tables = tableNamesWithPrefix('kubeport-aws-');
    await createTables(dynamoClient, tables);

    const s3 = await startEmbeddedS3({ dataDir: join(dir, 's3'), buckets: [RECORDINGS_BUCKET] });
    closers.push(() => s3.close());
    const s3Url = await forwardLoopbackTo(s3.socketPath);
    closers.push(() => s3Url.close());
    const s3Client = makeS3Client({ socketPath: s3.socketPath, region: 'local', forcePathStyle: true });
    closers.push(async () => s3Client.destroy());

    const signers = [ROLES.auth, ROLES.caBootstrap];
    const readers = [ROLES.admin];
    const caPolicy = JSON.stringify(caKeyPolicyDocument(`arn:aws:iam::${ACCOUNT}:root`, { signers, readers }));
    const kms = await startKmsStandIn({
      region: REGION,
      accountId: ACCOUNT,
      principals: { [ACCESS_KEYS.auth]: ROLES.auth, [ACCESS_KEYS.admin]: ROLES.admin, [ACCESS_KEYS.caBootstrap]: ROLES.caBootstrap },
      // The stack's IAM grants (lib/infra/control-plane-functions.ts): the secrets key to all three,
      // CreateKey to auth; nothing on the CA keys, whose own policies grant all.
      iam: {
        [ROLES.auth]: ['kms:Encrypt', 'kms:Decrypt', 'kms:CreateKey'],
        [ROLES.admin]: ['kms:Encrypt', 'kms:Decrypt'],
        [ROLES.caBootstrap]: ['kms:Encrypt', 'kms:Decrypt'],
      },
      keys: [
        { id: USER_CA_KEY, policy: caPolicy, description: 'user CA' },
        { id: HOST_CA_KEY, policy: caPolicy, description: 'host CA' },
        { id: SECRETS_KEY, spec: 'SYMMETRIC_DEFAULT', description: 'sealed secrets' },
      ],
    });
    closers.push(() => kms.close());
    const secretsManager = await startSecretsManagerStandIn({ region: REGION, accountId: ACCOUNT });
    closers.push(() => secretsManager.close());
    secretsManager.put(GITHUB_SECRET_NAME, githubSecret);

    const running = new Map<LambdaName, BundledFunction>();
    const api = createApiGatewayServer(
      (path) => (event) => {
        const target = running.get(path.startsWith('/webapi/admin/') ? 'admin' : 'auth');
        if (!target) throw new Error(`no bundled function serves ${path} yet`);
        return target.http(event);
      },
      () => undefined,
    );
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', () => resolve()));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          api.close(() => resolve());
          api.closeAllConnections();
        }),
    );
    const proxy = `127.0.0.1:${(api.address() as AddressInfo).port}`;
    const callbackUrl = `http://${proxy}/webapi/github/callback`;

    const github = await GitHubStandIn.start();
    closers.push(() => github.close());
    github.addApp({ clientId: GITHUB_CLIENT_ID, clientSecret: githubSecret, callbackUrl });

    // CloudFormation's side of the custom resource: the presigned ResponseURL.
    const answers: CloudFormationAnswer[] = [];
    const responses = http.createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => {
        answers.push({ contentType: req.headers['content-type'], body: JSON.parse(text) as CloudFormationAnswer['body'] });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => responses.listen(0, '127.0.0.1', () => resolve()));
    closers.push(() => new Promise<void>((resolve) => responses.close(() => resolve())));
    const responseUrl = `http://127.0.0.1:${(responses.address() as AddressInfo).port}/cloudformation/response`;

    const home = join(dir, 'home');
    const lambdaEnv = (name: LambdaName): Record<string, string> => ({
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: ACCESS_KEYS[name],
      AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
      AWS_SESSION_TOKEN: 'fake-session-token',
      AWS_ENDPOINT_URL_DYNAMODB: dynamoUrl.url,
      AWS_ENDPOINT_URL_S3: s3Url.url,
      AWS_ENDPOINT_URL_KMS: kms.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
      // No shared config or credentials files: only the environment speaks.
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    });
    const apiEnv = {
      KUBEPORT_CLUSTER_NAME: CLUSTER_NAME,
      KUBEPORT_RESOURCES_TABLE: tables.resources,
      KUBEPORT_STATE_TABLE: tables.state,
      KUBEPORT_AUDIT_TABLE: tables.audit,
      KUBEPORT_SECRETS_KEY_ID: kms.keys.get(SECRETS_KEY)!.arn,
      KUBEPORT_SERVER_VERSION: 'aws-mode-test',
      KUBEPORT_GITHUB_CLIENT_ID: GITHUB_CLIENT_ID,
      // The deployment's GitHub: github.com when deployed, the stand-in here.
      KUBEPORT_GITHUB_ENDPOINT_URL: github.url,
      KUBEPORT_GITHUB_API_ENDPOINT_URL: github.apiUrl,
    };
    const stackEnv: { auth: AuthEnvironment; admin: AdminEnvironment; caBootstrap: CaBootstrapEnvironment } = {
      auth: {
        ...apiEnv,
        KUBEPORT_GITHUB_SECRET_NAME: GITHUB_SECRET_NAME,
        KUBEPORT_CA_SIGNER_ROLE_ARNS: signers.join(','),
        KUBEPORT_CA_READER_ROLE_ARNS: readers.join(','),
        KUBEPORT_CA_KEY_TAG: CLUSTER_NAME,
      },
      admin: { ...apiEnv, KUBEPORT_RECORDINGS_BUCKET: RECORDINGS_BUCKET },
      caBootstrap: {
        KUBEPORT_CLUSTER_NAME: CLUSTER_NAME,
        KUBEPORT_RESOURCES_TABLE: tables.resources,
        KUBEPORT_AUDIT_TABLE: tables.audit,
        KUBEPORT_USER_CA_KEY_ID: kms.keys.get(USER_CA_KEY)!.arn,
        KUBEPORT_HOST_CA_KEY_ID: kms.keys.get(HOST_CA_KEY)!.arn,
        KUBEPORT_STACK_ID: STACK_ID,
        KUBEPORT_GITHUB_CLIENT_ID: GITHUB_CLIENT_ID,
        KUBEPORT_GITHUB_ADMIN_TEAMS: ADMIN_TEAM,
        KUBEPORT_GITHUB_CALLBACK_URL: callbackUrl,
      },
    };
    const env: AwsMode['env'] = (name, changes = {}) => {
      const all: Record<string, string | undefined> = { ...lambdaEnv(name), ...stackEnv[name], ...changes };
      return Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined));
    };

    let requests = 0;
    return {
      proxy,
      kms,
      secretsManager,
      github,
      resources: new DynamoResourceStore(dynamoClient, tables.resources),
      audit: new DynamoAuditLog(dynamoClient, tables.audit, systemClock),
      recordings: new S3RecordingStore(s3Client, RECORDINGS_BUCKET),
      env,
      start: async (name, given) => {
        const started = await startBundledFunction(bundles[name], given ?? env(name));
        functions.push(started);
        closers.push(() => started.close());
        if (name !== 'caBootstrap' && given === undefined) running.set(name, started);
        return started;
      },
      cloudFormation: async (bootstrap, type, properties, oldProperties, stackId = STACK_ID) => {
        requests += 1;
        const before = answers.length;
        const event = {
          RequestType: type,
          ServiceToken: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:kubeport-ca-bootstrap`,
          ResponseURL: `${responseUrl}?request=${requests}`,
          StackId: stackId,
          RequestId: `request-${requests}`,
          LogicalResourceId: 'CertificateAuthorities',
          ResourceType: 'Custom::KubeportCertificateAuthorities',
          ResourceProperties: { ServiceToken: 'token', ...properties },
          ...(type === 'Update'
            ? { PhysicalResourceId: 'kubeport-certificate-authorities', OldResourceProperties: { ServiceToken: 'token', ...oldProperties } }
            : {}),
        } as CloudFormationCustomResourceEvent;
        await bootstrap.invoke(event, { timeoutMs: 60_000 });
        if (answers.length !== before + 1) throw new Error(`the bootstrap answered CloudFormation ${answers.length - before} times`);
        return answers.at(-1)!;
      },
      githubProperties: () => ({ Version: 'bundle-0001', CallbackUrl: callbackUrl, GitHubSettings: 'settings-0001' }),
      logLines: () => functions.flatMap((f) => f.logLines()),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
