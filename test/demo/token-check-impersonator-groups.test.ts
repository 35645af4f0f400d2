// The stand-in's token check and impersonation by group: a bearer token not in the table goes to
// authenticateToken (undefined or a throw: 401); members of impersonatorGroups (read at each
// request) and of system:masters may impersonate, and a SelfSubjectAccessReview for impersonate
// answers the same; without these options the stand-in behaves as before.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiServer, type TokenUser, startKubeApiServer } from '../../lib/demo/kube-apiserver.js';

const checked: Record<string, TokenUser> = {
  'webhook-ops': { username: 'ops-bot', groups: ['ops'] },
  'webhook-admin': { username: 'root', groups: ['system:masters'] },
  'webhook-plain': { username: 'plain' },
};
const groups = new Set<string>(['ops']);
let server: KubeApiServer;
let plainServer: KubeApiServer;

beforeAll(async () => {
  server = await startKubeApiServer({
    tokens: { 'static-tina': { username: 'tina' } },
    authenticateToken: (token) => {
      if (token === 'webhook-broken') throw new Error('webhook down');
      return checked[token];
    },
    impersonatorGroups: groups,
  });
  plainServer = await startKubeApiServer({ tokens: { 'static-root': { username: 'root', groups: ['system:masters'] } } });
});
afterAll(async () => {
  await server.close();
  await plainServer.close();
});

function call(
  on: KubeApiServer,
  path: string,
  token: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${on.url}${path}`,
      { method: options.method ?? 'GET', ca: on.caPem, headers: { authorization: `Bearer ${token}`, ...options.headers } },
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

const asAlice = { 'Impersonate-User': 'alice' };
const reviewImpersonate = async (on: KubeApiServer, token: string) => {
  const answer = await call(on, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', token, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ spec: { resourceAttributes: { verb: 'impersonate', resource: 'groups' } } }),
  });
  return (JSON.parse(answer.body) as { status: { allowed: boolean } }).status.allowed;
};

describe('the stand-in with a token check and impersonator groups', () => {
  it('takes table tokens first, then what the check returns; refuses what it refuses or throws on', async () => {
    expect((await call(server, '/api/v1/namespaces', 'static-tina')).status).toBe(200);
    expect((await call(server, '/api/v1/namespaces', 'webhook-plain')).status).toBe(200);
    expect((await call(server, '/api/v1/namespaces', 'webhook-unknown')).status).toBe(401);
    expect((await call(server, '/api/v1/namespaces', 'webhook-broken')).status).toBe(401);
    expect(server.requests.at(-1)?.authenticated).toBeNull();
  });

  it('lets members of an impersonator group impersonate while the group is listed, and system:masters always', async () => {
    expect((await call(server, '/api/v1/namespaces', 'webhook-ops', { headers: asAlice })).status).toBe(200);
    expect(server.requests.at(-1)?.effective?.username).toBe('alice');
    expect(await reviewImpersonate(server, 'webhook-ops')).toBe(true);
    groups.delete('ops');
    try {
      expect((await call(server, '/api/v1/namespaces', 'webhook-ops', { headers: asAlice })).status).toBe(403);
      expect(await reviewImpersonate(server, 'webhook-ops')).toBe(false);
    } finally {
      groups.add('ops');
    }
    expect((await call(server, '/api/v1/namespaces', 'webhook-admin', { headers: asAlice })).status).toBe(200);
    expect(await reviewImpersonate(server, 'webhook-admin')).toBe(true);
    expect((await call(server, '/api/v1/namespaces', 'webhook-plain', { headers: asAlice })).status).toBe(403);
    expect(await reviewImpersonate(server, 'webhook-plain')).toBe(false);
  });

  it('without the options: only table tokens, and system:masters may impersonate', async () => {
    expect((await call(plainServer, '/api/v1/namespaces', 'webhook-plain')).status).toBe(401);
    expect((await call(plainServer, '/api/v1/namespaces', 'static-root', { headers: asAlice })).status).toBe(200);
  });
});
