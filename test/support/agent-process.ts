// `npm run agent` as the Fargate task runs it, on this machine: a process of its own whose
// environment holds only what ECS and the stack would set, the SDK's AWS_ENDPOINT_URL_* variables
// pointing at loopback stand-ins (dynalite and s3rver through loopback ports, STS, EKS) and fake
// static credentials of the agent's task role. The control plane is the auth handler behind the
// API Gateway stand-in's AWS_IAM authorizer (api-harness.ts), over the same DynamoDB, with CAs
// stored as resources; the agent reads them from the table as it would on AWS.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { makeS3Client } from '../../lib/adapters/aws/clients.js';
import { S3RecordingStore } from '../../lib/adapters/aws/s3-recording-store.js';
import { startEmbeddedS3 } from '../../lib/adapters/local/embedded-s3.js';
import { freePort } from '../../lib/adapters/local/free-port.js';
import { type ApiHarness, startApiHarness } from './api-harness.js';
import { collectOutput, repoRoot } from './cli.js';
import { type EksStandIn, startEksStandIn } from './eks-stand-in.js';
import { type IamPrincipal, STAND_IN_ACCOUNT } from './iam-api-gateway.js';
import { forwardLoopbackTo } from './loopback-forwarder.js';
import { type Route53StandIn, startRoute53StandIn } from './route53-stand-in.js';
import { AGENT_TASK_ROLE, type StsIdentity, type StsStandIn, startStsStandIn } from './sts-stand-in.js';

export const AGENT_REGION = 'eu-west-1';
export const RECORDINGS_BUCKET = 'kubeport-agent-recordings';
export const AUDIT_BUCKET = 'kubeport-agent-audit-archive';
/** The role the stack names in the auth function's KUBEPORT_AGENT_ROLE_ARN: AGENT_TASK_ROLE's. */
export const AGENT_ROLE_ARN = `arn:aws:iam::${STAND_IN_ACCOUNT}:role/kubeport-agent`;
/** Another workload's role in the same account: IAM lets it call the API, Kubeport must not certify it. */
export const OTHER_TASK_ROLE: StsIdentity = {
  accessKeyId: 'ASIAOTHERTASKROLE',
  secretAccessKey: 'other-task-role-secret',
  sessionToken: 'other-session-token',
  arn: `arn:aws:sts::${STAND_IN_ACCOUNT}:assumed-role/some-other-service/task-9`,
  userId: 'AROAOTHER:task-9',
};
/** The address the public-IP stand-in answers, as checkip.amazonaws.com would. */
export const TASK_PUBLIC_IP = '3.121.44.17';
/** Economy topology: the hosted zone and the one name in it the task role may change. */
export const HOSTED_ZONE_ID = 'Z0KUBEPORTAGENT1';
export const AGENT_DOMAIN_NAME = 'kubeport.example.com';

const principal = (identity: StsIdentity): IamPrincipal => ({
  accessKeyId: identity.accessKeyId,
  secretAccessKey: identity.secretAccessKey,
  ...(identity.sessionToken !== undefined ? { sessionToken: identity.sessionToken } : {}),
  userArn: identity.arn,
  granted: true,
});

export interface AgentStandIns {
  /** A temporary directory removed at close. */
  dir: string;
  api: ApiHarness;
  sts: StsStandIn;
  eks: EksStandIn;
  route53: Route53StandIn;
  /** The recordings bucket, as the test reads it. */
  recordings: S3RecordingStore;
  /** The keys of the objects in the audit archive bucket. */
  archiveKeys(): Promise<string[]>;
  /** The economy topology's variables: HOSTED_ZONE_ID, AGENT_DOMAIN_NAME and the public-IP stand-in. */
  economy: Record<string, string>;
  /** The environment ECS and the stack would give the agent as `identity` (default: the task role), with `changes` (undefined removes). */
  env(changes?: Record<string, string | undefined>, identity?: StsIdentity): Record<string, string>;
  /** The environment of a person's shell with only `principal`'s AWS credentials (tctl --aws-iam). */
  breakGlassEnv(principal: IamPrincipal): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export interface AgentStandInOptions {
  /** Extra STS stand-in settings (a short EKS token life). */
  tokenLifetimeMs?: number;
  /** Principals with the break-glass policy (tctl --aws-iam), besides the task roles. */
  breakGlass?: IamPrincipal[];
}

export async function startAgentStandIns(options: AgentStandInOptions = {}): Promise<AgentStandIns> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const dir = mkdtempSync(join(tmpdir(), 'kubeport-agent-aws-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const identities = [AGENT_TASK_ROLE, OTHER_TASK_ROLE];
    const sts = await startStsStandIn({
      region: AGENT_REGION,
      identities,
      now: () => new Date(),
      ...(options.tokenLifetimeMs === undefined ? {} : { tokenLifetimeMs: options.tokenLifetimeMs }),
    });
    closers.push(() => sts.close());
    const eks = await startEksStandIn({ region: AGENT_REGION, accountId: STAND_IN_ACCOUNT });
    closers.push(() => eks.close());

    // The API's gateway checks signatures against real time (the agent signs with this machine's).
    const api = await startApiHarness(new Date(), {
      storedCas: true,
      iam: { region: AGENT_REGION, principals: [...identities.map(principal), ...(options.breakGlass ?? [])], now: () => new Date() },
      agentHostCert: { roleArn: AGENT_ROLE_ARN, hostNames: ['127.0.0.1', 'localhost'] },
    });
    closers.push(() => api.close());
    const dynamoUrl = await forwardLoopbackTo(api.dynamoSocketPath);
    closers.push(() => dynamoUrl.close());

    // s3rver checks signatures against the key pairs it knows: it learns the task role's.
    const require = createRequire(import.meta.url);
    const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account.js') as {
      DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
    };
    DUMMY_ACCOUNT.createKeyPair(AGENT_TASK_ROLE.accessKeyId, AGENT_TASK_ROLE.secretAccessKey);
    const s3 = await startEmbeddedS3({ dataDir: join(dir, 's3'), buckets: [RECORDINGS_BUCKET, AUDIT_BUCKET] });
    closers.push(() => s3.close());
    const s3Url = await forwardLoopbackTo(s3.socketPath);
    closers.push(() => s3Url.close());
    const s3Client = makeS3Client({ socketPath: s3.socketPath, region: 'local', forcePathStyle: true });
    closers.push(async () => s3Client.destroy());

    const route53 = await startRoute53StandIn({
      zones: { [HOSTED_ZONE_ID]: 'example.com' },
      principals: [{ ...AGENT_TASK_ROLE, mayChange: [AGENT_DOMAIN_NAME] }],
    });
    closers.push(() => route53.close());
    const publicIp = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${TASK_PUBLIC_IP}\n`));
    await new Promise<void>((resolve) => publicIp.listen(0, '127.0.0.1', () => resolve()));
    closers.push(() => new Promise<void>((resolve) => publicIp.close(() => resolve())));
    const publicIpUrl = `http://127.0.0.1:${(publicIp.address() as AddressInfo).port}/`;

    const home = join(dir, 'home');
    const env: AgentStandIns['env'] = (changes = {}, identity = AGENT_TASK_ROLE) => {
      const all: Record<string, string | undefined> = {
        // What a container has: a PATH, a HOME, nothing of this machine's AWS settings.
        PATH: process.env.PATH,
        HOME: home,
        AWS_CONFIG_FILE: join(home, 'no-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_REGION: AGENT_REGION,
        AWS_ACCESS_KEY_ID: identity.accessKeyId,
        AWS_SECRET_ACCESS_KEY: identity.secretAccessKey,
        AWS_SESSION_TOKEN: identity.sessionToken,
        AWS_ENDPOINT_URL_STS: sts.url,
        AWS_ENDPOINT_URL_EKS: eks.url,
        AWS_ENDPOINT_URL_DYNAMODB: dynamoUrl.url,
        AWS_ENDPOINT_URL_S3: s3Url.url,
        AWS_ENDPOINT_URL_ROUTE_53: route53.url,
        KUBEPORT_CLUSTER_NAME: 'kubeport-test',
        KUBEPORT_API_URL: `http://${api.proxy}`,
        KUBEPORT_RESOURCES_TABLE: api.tables.resources,
        KUBEPORT_AUDIT_TABLE: api.tables.audit,
        KUBEPORT_AUDIT_BUCKET: AUDIT_BUCKET,
        KUBEPORT_RECORDINGS_BUCKET: RECORDINGS_BUCKET,
        KUBEPORT_AGENT_HOST: '127.0.0.1',
        KUBEPORT_SPOOL_DIR: join(dir, `spool-${Math.random().toString(36).slice(2)}`),
        ...changes,
      };
      return Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined));
    };
    const breakGlassEnv = (granted: IamPrincipal): NodeJS.ProcessEnv => ({
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_'))),
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_REGION: AGENT_REGION,
      AWS_ACCESS_KEY_ID: granted.accessKeyId,
      AWS_SECRET_ACCESS_KEY: granted.secretAccessKey,
      ...(granted.sessionToken ? { AWS_SESSION_TOKEN: granted.sessionToken } : {}),
    });
    const economy = {
      KUBEPORT_HOSTED_ZONE_ID: HOSTED_ZONE_ID,
      KUBEPORT_AGENT_DOMAIN_NAME: AGENT_DOMAIN_NAME,
      KUBEPORT_PUBLIC_IP_URL: publicIpUrl,
    };
    const recordings = new S3RecordingStore(s3Client, RECORDINGS_BUCKET);
    const archiveKeys = async () =>
      ((await s3Client.send(new ListObjectsV2Command({ Bucket: AUDIT_BUCKET }))).Contents ?? []).map((object) => object.Key ?? '');
    return { dir, api, sts, eks, route53, recordings, archiveKeys, economy, env, breakGlassEnv, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export interface AgentProcess {
  child: ChildProcess;
  /** host:port kubectl reaches it at. */
  address: string;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function spawnAgent(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [join(repoRoot, 'cli/run-ts.mjs'), join(repoRoot, 'agent/main.ts')], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts the agent on a free port; resolves once it listens (rejects with its output if it exits first). */
export async function startAgentProcess(env: Record<string, string>): Promise<AgentProcess> {
  const port = env.KUBEPORT_AGENT_PORT ?? String(await freePort());
  const child = spawnAgent({ ...env, KUBEPORT_AGENT_PORT: port });
  const output = collectOutput(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = await Promise.race([output.waitFor(/kubeport agent listening on /, 30_000).then(() => true), exited.then(() => false)]);
  if (!started) throw new Error(`the agent exited before it listened:\n${output.text()}`);
  return {
    child,
    address: `127.0.0.1:${port}`,
    output: output.text,
    waitFor: output.waitFor,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode !== null) return Promise.resolve(child.exitCode);
      child.kill(signal);
      return exited;
    },
  };
}

/** Runs the agent expecting it to stop by itself (bad configuration, a refused start). */
export async function runAgentToExit(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const child = spawnAgent({ KUBEPORT_AGENT_PORT: String(await freePort()), ...env });
  const output = collectOutput(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  // 'close', not 'exit': the output is all read by then.
  const code = await new Promise<number | null>((resolve) => child.once('close', (exit) => resolve(exit)));
  clearTimeout(timer);
  return { code, output: output.text() };
}
