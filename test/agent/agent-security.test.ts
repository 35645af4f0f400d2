// Tries to break the agent's rules: who may connect, which headers pass, which targets parse.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newLeafKey } from '../../lib/adapters/local/ephemeral-ca.js';
import { issueHostCertificate } from '../../lib/core/certificate-authority.js';
import { headerValues } from '../../lib/demo/kube-apiserver.js';
import { type AgentHarness, type ClientCredentials, newCa, rawUpgrade, startAgentHarness } from '../support/agent-harness.js';

const PODS = '/k8s/dev/api/v1/namespaces/default/pods';

describe('agent security rules', () => {
  let h: AgentHarness;
  let alice: ClientCredentials;
  const upstreamCount = () => h.kube.requests.length;

  beforeAll(async () => {
    h = await startAgentHarness();
    alice = await h.issue({ username: 'alice' });
  });
  afterAll(() => h.close());

  it('serves alice with her impersonated identity, never the client Authorization', async () => {
    const res = await h.request(PODS, { credentials: alice, headers: [['Authorization', 'Bearer stolen-admin-token']] });
    expect(res.status).toBe(200);
    expect(res.body).toContain('web-0');
    const upstream = h.kube.requests.at(-1)!;
    expect(upstream.authenticated?.username).toBe('kubeport-agent');
    expect(upstream.effective).toMatchObject({ username: 'alice', groups: ['devs', 'system:authenticated'] });
    expect(headerValues(upstream, 'authorization')).toEqual([]);
  });

  it('streams a watch as it happens, without buffering it to the end', async () => {
    const https = await import('node:https');
    const arrivals = await new Promise<number[]>((resolve, reject) => {
      const started = Date.now();
      const times: number[] = [];
      const req = https.request(
        {
          host: '127.0.0.1',
          port: h.port,
          path: `${PODS}?watch=true`,
          ca: h.hostCa.certPem,
          servername: 'localhost',
          cert: alice.certPem,
          key: alice.keyPem,
          agent: false,
        },
        (res) => {
          res.on('data', () => times.push(Date.now() - started));
          res.on('end', () => resolve(times));
        },
      );
      req.on('error', reject);
      req.end();
    });
    // The stand-in sends an event every 200 ms and ends the watch after 1 s.
    expect(arrivals.length).toBeGreaterThanOrEqual(2);
    expect(arrivals[0]).toBeLessThan(700);
  });

  describe('certificates', () => {
    it.each([
      ['no certificate', async () => undefined, /no client certificate/],
      [
        'an expired certificate',
        async () => h.issue({ username: 'alice' }, { at: new Date(Date.now() - 3 * 3_600_000), ttlMs: 3_600_000 }),
        /expired/,
      ],
      [
        'a certificate from a foreign CA with the same name',
        async () => h.issue({ username: 'alice' }, { ca: await newCa('Kubeport user CA', h.clock) }),
        /not signed by this Kubeport user CA/,
      ],
      [
        'a client certificate from the host CA',
        async () => h.issue({ username: 'alice' }, { ca: h.hostCa }),
        /not signed by this Kubeport user CA/,
      ],
      [
        'a user-CA certificate without clientAuth usage',
        async () => {
          const key = newLeafKey();
          const certPem = await issueHostCertificate(h.userCa, key.spki, { dns: ['alice'], ips: [] }, 3_600_000);
          return { certPem, keyPem: key.keyPem };
        },
        /client authentication|not signed/,
      ],
    ])('refuses %s with a 401 Status, and nothing reaches the cluster', async (_name, credentials, message) => {
      const before = upstreamCount();
      const creds = await credentials();
      const res = await h.request(PODS, creds ? { credentials: creds } : {});
      expect(res.status).toBe(401);
      const status = JSON.parse(res.body);
      expect(status).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 });
      expect(status.message).toMatch(message);
      expect(upstreamCount()).toBe(before);
    });

    it('closes a connection without a valid certificate that sends nothing', async () => {
      const tls = await import('node:tls');
      const closedAfter = await new Promise<number>((resolve, reject) => {
        const started = Date.now();
        const socket = tls.connect({ host: '127.0.0.1', port: h.port, ca: h.hostCa.certPem, servername: 'localhost' });
        socket.on('error', reject);
        socket.on('close', () => resolve(Date.now() - started));
        socket.resume();
      });
      expect(closedAfter).toBeLessThan(5_000);
    });

    it('lets one client address hold only so many connections', async () => {
      const tls = await import('node:tls');
      const open = await Promise.all(
        Array.from(
          { length: 10 },
          () =>
            new Promise<import('node:tls').TLSSocket | undefined>((resolve) => {
              const socket = tls.connect({
                host: '127.0.0.1',
                port: h.port,
                ca: h.hostCa.certPem,
                servername: 'localhost',
                cert: alice.certPem,
                key: alice.keyPem,
              });
              socket.once('secureConnect', () => resolve(socket));
              socket.once('error', () => resolve(undefined));
              socket.once('close', () => resolve(undefined));
            }),
        ),
      );
      const connected = open.filter((s) => s !== undefined && !s.destroyed);
      // At most 8; fewer when a connection of an earlier test has not closed on the server yet.
      expect(connected.length).toBeLessThanOrEqual(8);
      expect(connected.length).toBeGreaterThanOrEqual(6);
      for (const socket of open) socket?.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await h.request(PODS, { credentials: alice })).status).toBe(200);
    });

    it('refuses a certificate that expires while its connection stays open', async () => {
      const short = await h.issue({ username: 'alice' }, { ttlMs: 60_000 });
      expect((await h.request(PODS, { credentials: short })).status).toBe(200);
      h.clock.advance(2 * 60_000);
      try {
        const res = await h.request(PODS, { credentials: short });
        expect(res.status).toBe(401);
      } finally {
        h.clock.advance(-2 * 60_000);
      }
    });
  });

  describe('identity headers from the client', () => {
    it.each([
      [[['Impersonate-User', 'admin']]],
      [
        [
          ['impersonate-user', 'alice'],
          ['Impersonate-User', 'admin'],
        ],
      ],
      [
        [
          ['Impersonate-User', 'alice'],
          ['Impersonate-Group', 'system:masters'],
        ],
      ],
      [[['IMPERSONATE-GROUP', 'system:masters']]],
      [[['Impersonate-Uid', '0']]],
      [[['Impersonate-Extra-Scopes', 'admin']]],
    ] as [string, string][][][])('refuses %j with 403 and forwards nothing', async (headers) => {
      const before = upstreamCount();
      const res = await h.request(PODS, { credentials: alice, headers });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
      expect(upstreamCount()).toBe(before);
    });

    it('honours --as and --as-group within what the roles allow, and sends only those', async () => {
      const res = await h.request(PODS, {
        credentials: alice,
        headers: [
          ['Impersonate-User', 'alice'],
          ['Impersonate-Group', 'devs'],
        ],
      });
      expect(res.status).toBe(200);
      const upstream = h.kube.requests.at(-1)!;
      expect(headerValues(upstream, 'impersonate-user')).toEqual(['alice']);
      expect(headerValues(upstream, 'impersonate-group')).toEqual(['devs']);
    });
  });

  describe('request targets', () => {
    it.each([
      '/k8s/dev/api/v1/namespaces/default/pods/../../kube-system/pods',
      '/k8s/dev/api/v1/./namespaces/default/pods',
      '/k8s/dev/api/v1/namespaces/default/pods/%2e%2e',
      '/k8s/dev/api/v1/namespaces%2Fkube-system/pods',
      '/k8s/dev/api/v1/namespaces/default%5Cpods',
      '/k8s/dev//api/v1/pods',
      '/k8s/dev/api/v1/namespaces/d\u00e9fault/pods',
      '/k8s/../k8s/prod/api/v1/pods',
      '/k8s/Dev/api/v1/pods',
      '/api/v1/pods',
    ])('refuses %s with 400', async (path) => {
      const before = upstreamCount();
      const response = await h.raw(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`, alice);
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
      expect(upstreamCount()).toBe(before);
    });

    it('answers a cluster the roles do not allow exactly as an unknown one, and never reaches for it', async () => {
      const unknown = await h.request('/k8s/staging/api/v1/pods', { credentials: alice });
      expect(unknown.status).toBe(404);
      expect(JSON.parse(unknown.body).message).toContain('kubernetes cluster "staging" not found');
      h.roles.set('dev-only', {
        ...h.roles.get('access')!,
        metadata: { name: 'dev-only' },
        spec: { ...h.roles.get('access')!.spec, allow: { ...h.roles.get('access')!.spec.allow, kubernetes_labels: { env: 'dev' } } },
      });
      const devOnly = await h.issue({ username: 'bob', roles: ['dev-only'] });
      expect((await h.request(PODS, { credentials: devOnly })).status).toBe(200);
      const resolvedBefore = h.resolvedClusters.length;
      const prod = await h.request('/k8s/prod/api/v1/namespaces/default/pods', { credentials: devOnly });
      const nowhere = await h.request('/k8s/nowhere/api/v1/namespaces/default/pods', { credentials: devOnly });
      expect(prod.status).toBe(404);
      expect(JSON.parse(prod.body).message).toBe('kubernetes cluster "prod" not found; tsh kube ls lists the clusters you may reach');
      // The same Status, word for word, but for the name the user typed; nothing of its labels.
      expect(prod.body.replaceAll('prod', 'X')).toBe(nowhere.body.replaceAll('nowhere', 'X'));
      expect(nowhere.status).toBe(404);
      expect(prod.body).not.toContain('env');
      // Authorization decided on the registered view: the agent never resolved (reached for) either.
      expect(h.resolvedClusters.slice(resolvedBefore)).toEqual([]);
    });

    it('refuses a removed user, and certificates issued before a revocation', async () => {
      const dave = await h.issue({ username: 'dave' });
      expect((await h.request(PODS, { credentials: dave })).status).toBe(200);
      h.users.set('dave', null);
      const removed = await h.request(PODS, { credentials: dave });
      expect(removed.status).toBe(403);
      expect(JSON.parse(removed.body).message).toBe('user dave no longer exists; ask an admin');
      const revokedAt = new Date(h.clock.now().getTime() + 1000).toISOString();
      h.users.set('dave', {
        kind: 'user',
        version: 'v2',
        metadata: { name: 'dave' },
        spec: { roles: ['access'], traits: {}, revoked_before: revokedAt },
      });
      const revoked = await h.request(PODS, { credentials: dave });
      expect(revoked.status).toBe(401);
      expect(JSON.parse(revoked.body).message).toContain('your certificate was revoked');
      h.clock.advance(2000);
      try {
        expect((await h.request(PODS, { credentials: await h.issue({ username: 'dave' }) })).status).toBe(200);
      } finally {
        h.clock.advance(-2000);
      }
    });

    it('applies a role change to certificates already issued', async () => {
      const carol = await h.issue({ username: 'carol', roles: ['temp'] });
      h.roles.set('temp', { ...h.roles.get('access')!, metadata: { name: 'temp' } });
      const allowed = await h.request(PODS, { credentials: carol });
      expect(allowed.status, allowed.body).toBe(200);
      h.roles.delete('temp');
      const res = await h.request(PODS, { credentials: carol });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).message).toContain('none of your roles (temp) exist');
    });
  });

  describe('framing', () => {
    it.each([
      ['Content-Length and Transfer-Encoding', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'],
      ['two Content-Lengths', 'Content-Length: 2\r\nContent-Length: 3\r\n'],
    ])('refuses a request with %s', async (_name, framing) => {
      const before = upstreamCount();
      const response = await h.raw(`POST ${PODS} HTTP/1.1\r\nHost: localhost\r\n${framing}Connection: close\r\n\r\n0\r\n\r\n`, alice);
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
      expect(upstreamCount()).toBe(before);
    });

    it('re-frames a chunked body toward the cluster', async () => {
      const body = JSON.stringify({ kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' });
      const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
      const response = await h.raw(
        `POST /k8s/dev/apis/authentication.k8s.io/v1/selfsubjectreviews HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`,
        alice,
      );
      expect(response).toMatch(/^HTTP\/1\.1 201 /);
      expect(response).toContain('"username":"alice"');
    });
  });

  describe('upgrades go through the same checks', () => {
    const upgrade = rawUpgrade;
    const exec = '/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdin=true&stdout=true&tty=true';

    it('refuses an upgrade without a client certificate', async () => {
      const before = upstreamCount();
      expect(await h.raw(upgrade(exec))).toMatch(/^HTTP\/1\.1 401 /);
      expect(upstreamCount()).toBe(before);
    });

    it('ends an open exec session once its user is removed', async () => {
      const tls = await import('node:tls');
      const erin = await h.issue({ username: 'erin' });
      const cat = '/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=cat&stdin=true&stdout=true';
      const socket = tls.connect({
        host: '127.0.0.1',
        port: h.port,
        ca: h.hostCa.certPem,
        servername: 'localhost',
        cert: erin.certPem,
        key: erin.keyPem,
      });
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('secureConnect', () => socket.write(upgrade(cat)));
      await expect.poll(() => received, { timeout: 3000 }).toMatch(/^HTTP\/1\.1 101 /);
      h.users.set('erin', null);
      await closed;
      expect(received).toMatch(/^HTTP\/1\.1 101 /);
    });

    it('refuses an upgrade with a forged identity header or a bad target', async () => {
      const before = upstreamCount();
      expect(await h.raw(upgrade(exec, 'Impersonate-User: admin\r\n'), alice)).toMatch(/^HTTP\/1\.1 403 /);
      expect(await h.raw(upgrade('/k8s/dev/api/v1/namespaces/default/pods/web-0/../x/exec'), alice)).toMatch(/^HTTP\/1\.1 400 /);
      expect(upstreamCount()).toBe(before);
    });

    it("forwards an allowed upgrade with the agent's impersonation only, and relays a refusal that is not 101", async () => {
      const echo = '/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=echo&command=hi&stdout=true';
      const response = await h.raw(upgrade(echo, 'Authorization: Bearer stolen\r\n'), alice);
      expect(response).toMatch(/^HTTP\/1\.1 101 /);
      expect(response).toMatch(/Sec-WebSocket-Protocol: v5\.channel\.k8s\.io/i);
      const upstream = h.kube.requests.at(-1)!;
      expect(upstream.path).toBe('/api/v1/namespaces/default/pods/web-0/exec?command=echo&command=hi&stdout=true');
      expect(headerValues(upstream, 'impersonate-user')).toEqual(['alice']);
      expect(headerValues(upstream, 'authorization')).toEqual([]);
      expect(headerValues(upstream, 'upgrade')).toEqual(['websocket']);
      const missing = await h.raw(upgrade('/k8s/dev/api/v1/namespaces/default/pods/nope/exec?command=sh&stdout=true'), alice);
      expect(missing).toMatch(/^HTTP\/1\.1 404 /);
    });
  });
});
