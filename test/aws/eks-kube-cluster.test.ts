// The EKS cluster stand-in takes bearer tokens only as EKS does: signed by a known identity for
// this cluster, not expired, and mapped by an access entry; impersonation needs the bootstrap
// ClusterRole. Every refusal is tried with a token that is wrong in one way only.
import https from 'node:https';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEksClient } from '../../lib/adapters/aws/clients.js';
import { EKS_TOKEN_PREFIX, EksTokenSource } from '../../lib/adapters/aws/eks-token.js';
import { IMPERSONATOR_GROUP } from '../../lib/core/eks-access.js';
import { startEksStandIn, type EksStandIn } from '../support/eks-stand-in.js';
import { AGENT_TASK_ROLE_ARN, type EksKubeCluster, startEksKubeCluster } from '../support/eks-kube-cluster.js';
import { AGENT_TASK_ROLE, type StsIdentity, startStsStandIn, type StsStandIn } from '../support/sts-stand-in.js';

const region = 'eu-west-1';
const start = new Date('2026-12-03T03:00:00Z');
let now = start;
const clock = { now: () => now };
const stranger: StsIdentity = {
  accessKeyId: 'ASIASTRANGER',
  secretAccessKey: 'stranger-secret',
  sessionToken: 'stranger-session',
  arn: 'arn:aws:sts::999988887777:assumed-role/someone/else',
  userId: 'AROASOMEONE:else',
};
let sts: StsStandIn;
let eks: EksStandIn;
let cluster: EksKubeCluster;

beforeAll(async () => {
  sts = await startStsStandIn({ region, identities: [AGENT_TASK_ROLE, stranger], now: () => now, tokenLifetimeMs: 60_000 });
  eks = await startEksStandIn({ region });
  cluster = await startEksKubeCluster({ name: 'prod', sts, eks });
});
afterAll(async () => {
  await cluster.close();
  await eks.close();
  await sts.close();
});

const tokenFor = (clusterName: string, identity: StsIdentity = AGENT_TASK_ROLE, stsEndpoint = sts.url) =>
  new EksTokenSource({
    clusterName,
    region,
    clock,
    stsEndpoint,
    credentials: () =>
      Promise.resolve({
        accessKeyId: identity.accessKeyId,
        secretAccessKey: identity.secretAccessKey,
        sessionToken: identity.sessionToken!,
      }),
  }).token();

function call(
  path: string,
  token: string | undefined,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${cluster.kube.url}${path}`,
      {
        method: options.method ?? 'GET',
        ca: cluster.kube.caPem,
        headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...options.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const whoAmI = async (token: string, headers: Record<string, string> = {}) =>
  call('/apis/authentication.k8s.io/v1/selfsubjectreviews', token, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
  });

const mayImpersonate = async (token: string) => {
  const answer = await call('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', token, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ spec: { resourceAttributes: { verb: 'impersonate', resource: 'users' } } }),
  });
  return (JSON.parse(answer.body) as { status: { allowed: boolean } }).status.allowed;
};

describe('the EKS cluster stand-in', () => {
  it('is described by the EKS stand-in with its endpoint and CA', async () => {
    const client = makeEksClient({ region, endpoint: eks.url, credentials: AGENT_TASK_ROLE });
    const { cluster: described } = await client.send(new DescribeClusterCommand({ name: 'prod' }));
    expect(described?.endpoint).toBe(cluster.kube.url);
    expect(Buffer.from(described?.certificateAuthority?.data ?? '', 'base64').toString()).toBe(cluster.kube.caPem);
  });

  it("takes the agent's token as its role session, in the access entry's groups", async () => {
    now = start;
    const token = await tokenFor('prod');
    const answer = await whoAmI(token);
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.body)).toMatchObject({
      status: { userInfo: { username: AGENT_TASK_ROLE.arn, groups: [IMPERSONATOR_GROUP, 'system:authenticated'] } },
    });
    expect(cluster.tokens.at(-1)).toEqual({ token, principalArn: AGENT_TASK_ROLE_ARN });
  });

  it('refuses a token signed for another cluster', async () => {
    now = start;
    expect((await whoAmI(await tokenFor('staging'))).status).toBe(401);
    expect(cluster.tokens.at(-1)?.refused).toMatch(/SignatureDoesNotMatch/);
  });

  it('refuses a forged token: one signature character changed', async () => {
    now = start;
    const token = await tokenFor('prod');
    const url = new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString());
    const signature = url.searchParams.get('X-Amz-Signature')!;
    url.searchParams.set('X-Amz-Signature', (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1));
    const forged = EKS_TOKEN_PREFIX + Buffer.from(url.toString()).toString('base64url');
    expect((await whoAmI(forged)).status).toBe(401);
    expect(cluster.tokens.at(-1)?.refused).toMatch(/SignatureDoesNotMatch/);
  });

  it('refuses a token presigned for a host that is not STS', async () => {
    now = start;
    expect((await whoAmI(await tokenFor('prod', AGENT_TASK_ROLE, 'https://sts.example.com'))).status).toBe(401);
    expect(cluster.tokens.at(-1)?.refused).toMatch(/not an STS endpoint/);
  });

  it('refuses a token past its life (the lifetime the STS stand-in was given)', async () => {
    now = start;
    const token = await tokenFor('prod');
    now = new Date(start.getTime() + 60_000);
    expect((await whoAmI(token)).status).toBe(201);
    now = new Date(start.getTime() + 61_000);
    expect((await whoAmI(token)).status).toBe(401);
    expect(cluster.tokens.at(-1)?.refused).toMatch(/expired/);
  });

  it('refuses an identity STS knows but no access entry maps, and takes it once one does', async () => {
    now = start;
    const token = await tokenFor('prod', stranger);
    expect((await whoAmI(token)).status).toBe(401);
    expect(cluster.tokens.at(-1)).toMatchObject({ principalArn: 'arn:aws:iam::999988887777:role/someone', refused: /no access entry/ });
    cluster.accessEntries.set('arn:aws:iam::999988887777:role/someone', ['viewers']);
    try {
      expect(JSON.parse((await whoAmI(token)).body)).toMatchObject({
        status: { userInfo: { groups: ['viewers', 'system:authenticated'] } },
      });
    } finally {
      cluster.accessEntries.delete('arn:aws:iam::999988887777:role/someone');
    }
  });

  it('refuses requests without a token, and with a token of the wrong scheme or a static one', async () => {
    expect((await call('/api/v1/namespaces', undefined)).status).toBe(401);
    now = start;
    const token = await tokenFor('prod');
    expect((await call('/api/v1/namespaces', undefined, { headers: { authorization: `Basic ${token}` } })).status).toBe(401);
    expect((await call('/api/v1/namespaces', 'tok-tina')).status).toBe(401);
  });

  it('lets the impersonator group impersonate only while the bootstrap ClusterRole is bound', async () => {
    now = start;
    const token = await tokenFor('prod');
    const asAlice = { 'Impersonate-User': 'alice', 'Impersonate-Group': 'devs' };
    expect(await mayImpersonate(token)).toBe(true);
    expect(JSON.parse((await whoAmI(token, asAlice)).body)).toMatchObject({
      status: { userInfo: { username: 'alice', groups: ['devs', 'system:authenticated'] } },
    });
    cluster.setImpersonatorBound(false);
    try {
      expect(await mayImpersonate(token)).toBe(false);
      const refused = await whoAmI(token, asAlice);
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body)).toMatchObject({
        message: `users "alice" is forbidden: User "${AGENT_TASK_ROLE.arn}" cannot impersonate resource "users" in API group "" at the cluster scope`,
      });
      // Its own requests still pass: the token is accepted, only impersonation is missing.
      expect((await call('/api/v1/namespaces', token)).status).toBe(200);
    } finally {
      cluster.setImpersonatorBound(true);
    }
    expect((await whoAmI(token, asAlice)).status).toBe(201);
  });
});
