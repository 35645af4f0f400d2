// The auth and admin handlers behind the local API Gateway adapter, over embedded DynamoDB, with
// a clock the test moves. Clients talk to it over real HTTP on loopback.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { DynamoAuditLog } from '../../lib/adapters/aws/dynamo-audit-log.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { DynamoStateStore } from '../../lib/adapters/aws/dynamo-state-store.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { createApiGatewayServer } from '../../lib/adapters/local/api-gateway-adapter.js';
import { startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';
import { FileSecretBox } from '../../lib/adapters/local/file-secret-box.js';
import { FileSigningKeys } from '../../lib/adapters/local/file-signing-keys.js';
import { newLeafKey } from '../../lib/adapters/local/ephemeral-ca.js';
import { systemRandom } from '../../lib/adapters/system.js';
import { IAM_ADMIN_PREFIX, SIGNED_ADMIN_PREFIX } from '../../lib/core/aws-caller.js';
import { type IssuingCa, fixedCertAuthorities, issueUserCertificate } from '../../lib/core/certificate-authority.js';
import type { Identity } from '../../lib/core/identity.js';
import type { GitHubApi, RecordingStore } from '../../lib/core/ports.js';
import type { User } from '../../lib/core/resources.js';
import { certificateIssueTime } from '../../lib/core/user-standing.js';
import { type CaStoreDeps, StoredCertAuthorities, ensureCertAuthorities } from '../../lib/services/cert-authorities.js';
import type { AgentHostCertConfig } from '../../lib/services/agent-host-certificate.js';
import type { ServiceDeps } from '../../lib/services/deps.js';
import { createAdminHandler } from '../../lambdas/admin/handler.js';
import { createAuthHandler } from '../../lambdas/auth/handler.js';
import { newCa } from './agent-harness.js';
import { type IamApiGatewayOptions, iamAuthorizer } from './iam-api-gateway.js';

export interface ApiHarness {
  proxy: string;
  deps: ServiceDeps;
  /** The embedded DynamoDB's socket, for a process of its own to reach the same tables (forwardLoopbackTo). */
  dynamoSocketPath: string;
  /** The tables' names. */
  tables: ReturnType<typeof tableNamesWithPrefix>;
  /** The CAs behind deps.cas at start (with storedCas, the signing ones then). */
  userCa: IssuingCa;
  hostCa: IssuingCa;
  clock: { now: () => Date; set(date: Date): void; advance(ms: number): void };
  /** Every request the API received so far, as "METHOD /path?query". */
  requests: string[];
  /** A signing identity from the user CA (or `ca`) for `identity`. */
  identity(
    identity: Partial<Identity> & { username: string },
    options?: { ttlMs?: number; ca?: IssuingCa },
  ): Promise<{ certPem: string; keyPem: string }>;
  close(): Promise<void>;
}

export interface ApiHarnessOptions {
  /** GitHub's API as the auth handler reaches it (the HTTP adapter pointed at a stand-in). */
  github?: GitHubApi;
  /** Where session recordings are read from (tsh play). */
  recordings?: RecordingStore;
  /** API Gateway's AWS_IAM authorizer on the /webapi/iam/ routes (the SigV4-verifying stand-in). */
  iam?: Omit<IamApiGatewayOptions, 'route'>;
  /** CAs stored as resources with key files in a temporary directory (StoredCertAuthorities), so they rotate. */
  storedCas?: boolean;
  /** The deployment's agent: POST /webapi/iam/host-cert issues its certificate (absent: the route answers 404). */
  agentHostCert?: AgentHostCertConfig;
}

export async function startApiHarness(start = new Date(), options: ApiHarnessOptions = {}): Promise<ApiHarness> {
  let now = start;
  const clock = { now: () => now, set: (date: Date) => (now = date), advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
  const dynamo = await startEmbeddedDynamoDb({});
  const client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
  const tables = tableNamesWithPrefix('test-');
  await createTables(client, tables);
  const resources = new DynamoResourceStore(client, tables.resources);
  const audit = new DynamoAuditLog(client, tables.audit, clock);
  const keyDir = options.storedCas ? mkdtempSync(join(tmpdir(), 'ca-keys-')) : undefined;
  const stored = keyDir ? await storedCertAuthorities(keyDir, { resources, audit, clock, random: systemRandom }) : undefined;
  const userCa = stored ? await stored.cas.signing('user') : await newCa('Kubeport user CA', clock);
  const hostCa = stored ? await stored.cas.signing('host') : await newCa('Kubeport host CA', clock);
  const deps: ServiceDeps = {
    clusterName: 'kubeport-test',
    resources,
    state: new DynamoStateStore(client, tables.state, clock),
    audit,
    secrets: FileSecretBox.ephemeral(),
    clock,
    random: systemRandom,
    cas: stored?.cas ?? fixedCertAuthorities(userCa, hostCa),
    ...(stored ? { caKeys: stored.keys } : {}),
    agentAddress: '127.0.0.1:3026',
    serverVersion: 'test',
    ...(options.github ? { github: options.github } : {}),
    ...(options.recordings ? { recordings: options.recordings } : {}),
  };
  const auth = createAuthHandler(deps, () => undefined, options.agentHostCert ? { agentHostCert: options.agentHostCert } : {});
  const admin = createAdminHandler(deps, () => undefined);
  const server = createApiGatewayServer(
    (path) => (path.startsWith(`${SIGNED_ADMIN_PREFIX}/`) || path.startsWith(`${IAM_ADMIN_PREFIX}/`) ? admin : auth),
    () => undefined,
    options.iam ? { authorizer: iamAuthorizer({ now: clock.now, ...options.iam }) } : {},
  );
  const requests: string[] = [];
  server.on('request', (request: { method?: string; url?: string }) => requests.push(`${request.method} ${request.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const proxy = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    proxy,
    deps,
    dynamoSocketPath: dynamo.socketPath,
    tables,
    userCa,
    hostCa,
    clock,
    requests,
    identity: async (identity, options = {}) => {
      const key = newLeafKey();
      // The admin identity npm start writes is a built-in one; tests that need a stored user say so.
      // Dated as the real issuer dates it: after the stored user's last revocation.
      const stored = await deps.resources.get<User>('user', identity.username);
      const issuedAt = (stored ? certificateIssueTime(clock.now(), stored.body) : clock.now()).toISOString();
      const full: Identity = {
        roles: ['editor'],
        traits: {},
        connector: identity.username === 'kubeport-admin' ? 'builtin' : 'local',
        accessRequests: [],
        issuedAt,
        ...identity,
      };
      const certPem = await issueUserCertificate(options.ca ?? userCa, key.spki, full, options.ttlMs ?? 3_600_000);
      return { certPem, keyPem: key.keyPem };
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      client.destroy();
      await dynamo.close();
      if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    },
  };
}

async function storedCertAuthorities(keyDir: string, deps: Omit<CaStoreDeps, 'keys'>) {
  const keys = new FileSigningKeys(keyDir, deps.random);
  await ensureCertAuthorities({ ...deps, keys }, { user: keys.initial('user'), host: keys.initial('host') }, 'kubeport-test');
  return { keys, cas: new StoredCertAuthorities({ ...deps, keys }) };
}
