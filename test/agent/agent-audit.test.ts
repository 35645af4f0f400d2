// Every request the agent answers, refuses or ends leaves exactly one kube.request event, read
// off its scope: uid = the Audit-Id the client got (and the cluster got as Audit-ID), the
// principals the cluster received as Impersonate-*, the resource as the API server reads it.
// Discovery requests are counted into kube.discovery; audit: strict refuses while the sink is
// unhealthy; /healthz answers without a certificate and says nothing else.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { type EmbeddedStore, startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';
import type { AuditEvent } from '../../lib/core/ports.js';
import { type Role, parseResource } from '../../lib/core/resources.js';
import { headerValues } from '../../lib/demo/kube-apiserver.js';
import { finishHooks } from '../../agent/finish-hooks.js';
import { createScope } from '../../agent/request-scope.js';
import {
  type AgentHarness,
  type ClientCredentials,
  type OpenConnection,
  newCa,
  rawUpgrade,
  startAgentHarness,
  streamEnded,
} from '../support/agent-harness.js';
import { type AuditedStore, startAuditedStore } from '../support/audited-store.js';
import { RecordingAuditSink } from '../support/recording-audit-sink.js';

const DEFAULT = '/k8s/dev/api/v1/namespaces/default';
const PODS = `${DEFAULT}/pods`;
const CAT = `${PODS}/web-0/exec?command=cat&stdin=true&stdout=true`;
const LONG_STREAMS = { streams: { durationMs: Infinity } };
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
const spdyUpgrade = (path: string) =>
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n` +
  'X-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n';

function role(name: string, spec: Record<string, unknown>): Role {
  const parsed = parseResource({ kind: 'role', version: 'v8', metadata: { name }, spec }, 'role.yaml');
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.resource as Role;
}

describe('kube.request events', () => {
  const sink = new RecordingAuditSink();
  let h: AgentHarness;
  let dynamo: EmbeddedStore;
  let locks: DynamoResourceStore;
  let alice: ClientCredentials;
  const open: OpenConnection[] = [];

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamoDb({ dataDir: mkdtempSync(join(tmpdir(), 'kubeport-agent-audit-')) });
    const client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
    const tables = tableNamesWithPrefix('aa-');
    await createTables(client, tables);
    locks = new DynamoResourceStore(client, tables.resources);
    h = await startAgentHarness({
      audit: sink,
      kube: LONG_STREAMS,
      locks: { store: locks, pollMs: 100 },
      limits: { maxStreamsPerUser: 2, discoveryReportMs: 200 },
    });
    h.roles.set(
      'default-only',
      role('default-only', {
        allow: {
          kubernetes_labels: { '*': '*' },
          kubernetes_groups: ['devs'],
          kubernetes_resources: [{ kind: '*', api_group: '*', namespace: 'default', name: '*', verbs: ['*'] }],
        },
      }),
    );
    alice = await h.issue({
      username: 'alice',
      roles: ['access'],
      traits: { kubernetes_groups: ['devs', 'ops'], kubernetes_users: ['alice-k8s'] },
    });
  });
  afterAll(async () => {
    for (const connection of open) connection.socket.destroy();
    await h?.close();
    await dynamo?.close();
  });

  /** The one kube.request with this uid, once the agent has submitted it. */
  const eventOf = async (uid: string | string[] | undefined): Promise<AuditEvent> => {
    expect(typeof uid).toBe('string');
    await expect.poll(() => sink.events.filter((e) => e.uid === uid).length, { timeout: 5_000 }).toBe(1);
    return sink.byUid(uid as string);
  };
  /** What the cluster received for the request with this Audit-ID. */
  const upstreamOf = (uid: string) => {
    const received = h.kube.requests.filter((r) => headerValues(r, 'audit-id').includes(uid));
    expect(received).toHaveLength(1);
    return received[0]!;
  };
  const started = async (bytes: string, who: ClientCredentials, status: RegExp) => {
    const connection = h.open(bytes, who);
    open.push(connection);
    await expect.poll(() => connection.received(), { timeout: 5_000 }).toMatch(status);
    return connection;
  };
  const auditIdIn = (head: string) => /\r\naudit-id: ([^\r\n]+)/i.exec(head)?.[1];

  it('records one event whose uid is the Audit-Id the client got, with the principals the cluster received as Impersonate-*', async () => {
    const res = await h.request(`${PODS}?limit=5`, { credentials: alice, headers: [['User-Agent', 'kubectl/v1.32.0 (linux/amd64)']] });
    expect(res.status).toBe(200);
    const uid = res.headers['audit-id'] as string;
    const event = await eventOf(uid);
    const upstream = upstreamOf(uid);
    expect(event).toEqual({
      event: 'kube.request',
      code: 'T3009I',
      uid,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      audit_id: uid,
      proto: 'kube',
      'addr.remote': '127.0.0.1',
      user_agent: 'kubectl/v1.32.0 (linux/amd64)',
      user: 'alice',
      user_roles: ['access'],
      user_traits: { kubernetes_groups: ['devs', 'ops'], kubernetes_users: ['alice-k8s'] },
      user_kind: 'local',
      cert_serial: expect.stringMatching(/^[0-9a-f]+$/i),
      kubernetes_cluster: 'dev',
      kubernetes_labels: { env: 'dev' },
      kubernetes_users: headerValues(upstream, 'impersonate-user'),
      kubernetes_groups: headerValues(upstream, 'impersonate-group'),
      verb: 'GET',
      request_path: '/api/v1/namespaces/default/pods',
      resource_api_group: 'core/v1',
      resource_kind: 'pods',
      resource_namespace: 'default',
      response_code: 200,
      end_reason: 'answered',
      duration_ms: expect.any(Number),
    });
    expect(event.kubernetes_users).toEqual(['alice-k8s']);
    expect(event.kubernetes_groups).toEqual(expect.arrayContaining(['devs', 'ops']));
    expect(Date.parse(event.time)).toBeLessThanOrEqual(Date.now());
  });

  it.each([
    ['a get', 'GET', `${PODS}/web-0`, undefined, { resource_kind: 'pods', resource_name: 'web-0' }, 200],
    ['a list', 'GET', `${DEFAULT}/configmaps`, undefined, { resource_kind: 'configmaps' }, 200],
    [
      'a create',
      'POST',
      `${DEFAULT}/configmaps`,
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'audited' }, data: { a: '1' } }),
      { resource_kind: 'configmaps' },
      201,
    ],
    [
      'a patch',
      'PATCH',
      `${DEFAULT}/configmaps/audited`,
      JSON.stringify({ data: { a: '2' } }),
      { resource_kind: 'configmaps', resource_name: 'audited' },
      200,
    ],
  ])('names the resource of %s in a namespace', async (_what, method, path, body, resource, code) => {
    const contentType = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    const res = await h.request(path, {
      credentials: alice,
      method,
      ...(body ? { body, headers: [['Content-Type', contentType] as [string, string]] } : {}),
    });
    expect(res.status, res.body).toBe(code);
    const event = await eventOf(res.headers['audit-id']);
    expect(event).toMatchObject({
      verb: method,
      resource_api_group: 'core/v1',
      resource_namespace: 'default',
      response_code: code,
      ...resource,
    });
    if (!('resource_name' in resource)) expect(event).not.toHaveProperty('resource_name');
  });

  it.each([
    ['WebSocket (GET)', 'GET', rawUpgrade(CAT)],
    ['SPDY (POST)', 'POST', spdyUpgrade(CAT)],
  ])('records an exec over %s as one kube.request when the session ends', async (_how, verb, bytes) => {
    const before = sink.named('kube.request').length;
    const session = await started(bytes, alice, /^HTTP\/1\.1 101 /);
    const uid = auditIdIn(session.received());
    // Nothing is recorded while the session runs: its one event carries how it ended.
    expect(sink.events.filter((e) => e.uid === uid)).toHaveLength(0);
    session.socket.destroy();
    const event = await eventOf(uid);
    expect(event).toMatchObject({
      verb,
      user: 'alice',
      resource_kind: 'pods/exec',
      resource_name: 'web-0',
      resource_namespace: 'default',
      response_code: 101,
      end_reason: 'client closed',
    });
    expect(upstreamOf(uid!).method).toBe(verb);
    expect(sink.named('kube.request').length).toBe(before + 1);
  });

  describe('refused requests', () => {
    it('records a request without a certificate: no user, but the source, path and 401', async () => {
      const res = await h.request(`${PODS}?x=1`);
      expect(res.status).toBe(401);
      const event = await eventOf(res.headers['audit-id']);
      expect(event).toMatchObject({
        'addr.remote': '127.0.0.1',
        kubernetes_cluster: 'dev',
        request_path: '/api/v1/namespaces/default/pods',
        resource_kind: 'pods',
        response_code: 401,
        verb: 'GET',
      });
      expect(event.message).toMatch(/no client certificate/);
      expect(event).not.toHaveProperty('user');
      expect(event).not.toHaveProperty('kubernetes_users');
    });

    it('records certificates of another CA and expired ones as 401 without a user', async () => {
      const other = await newCa('Another user CA', h.clock);
      const foreign = await h.issue({ username: 'mallory' }, { ca: other });
      const expired = await h.issue({ username: 'alice' }, { at: new Date(Date.now() - 7_200_000), ttlMs: 3_600_000 });
      for (const credentials of [foreign, expired]) {
        const res = await h.request(PODS, { credentials });
        expect(res.status).toBe(401);
        const event = await eventOf(res.headers['audit-id']);
        expect(event).toMatchObject({ response_code: 401, request_path: '/api/v1/namespaces/default/pods', kubernetes_cluster: 'dev' });
        expect(event).not.toHaveProperty('user');
      }
    });

    it('records a request the roles forbid (403) with the user, the resource and the refusal', async () => {
      const dora = await h.issue({ username: 'dora', roles: ['default-only'] });
      const res = await h.request('/k8s/dev/api/v1/namespaces/kube-system/secrets/token', { credentials: dora });
      expect(res.status).toBe(403);
      const event = await eventOf(res.headers['audit-id']);
      expect(event).toMatchObject({
        user: 'dora',
        response_code: 403,
        resource_kind: 'secrets',
        resource_namespace: 'kube-system',
        resource_name: 'token',
        end_reason: 'answered',
      });
      expect(event.message).toMatch(/forbidden/);
      // Refused before any principal was chosen: none was sent.
      expect(event).not.toHaveProperty('kubernetes_groups');
    });

    it('records a request for an unknown cluster (404), a discovery request included', async () => {
      for (const path of ['/k8s/nowhere/api/v1/pods', '/k8s/nowhere/api']) {
        const res = await h.request(path, { credentials: alice });
        expect(res.status).toBe(404);
        const event = await eventOf(res.headers['audit-id']);
        expect(event).toMatchObject({ event: 'kube.request', user: 'alice', kubernetes_cluster: 'nowhere', response_code: 404 });
      }
    });

    it('cuts a refused request’s 8 KB query and 6 KB User-Agent to bounded fields marked truncated', async () => {
      const path = `/k8s/nowhere/api/v1/pods?labelSelector=${'%C3%A9'.repeat(1_400)}`;
      const headers: [string, string][] = [['User-Agent', `flood/${'ü'.repeat(3_000)}`]];
      const res = await h.request(path, { credentials: alice, headers });
      expect(res.status).toBe(404);
      const event = await eventOf(res.headers['audit-id']);
      // The cluster's path goes without its query; the User-Agent is cut on a character boundary.
      expect(event).toMatchObject({ user: 'alice', response_code: 404, truncated: true, request_path: '/api/v1/pods' });
      const userAgent = event.user_agent as string;
      expect(Buffer.byteLength(userAgent)).toBeLessThanOrEqual(512);
      expect(userAgent).toMatch(/^flood\/ü+$/);
      expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(2_000);

      // A target the agent cannot read (no /k8s/<cluster> prefix) is recorded as asked, query included, and cut.
      const unreadable = await h.request(`/api/v1/pods?labelSelector=${'%C3%A9'.repeat(1_400)}`, { credentials: alice, headers });
      expect(unreadable.status).toBe(400);
      const unknown = await eventOf(unreadable.headers['audit-id']);
      const requestPath = unknown.request_path as string;
      expect(Buffer.byteLength(requestPath)).toBeLessThanOrEqual(4_096);
      expect(requestPath.slice(0, 40)).toBe('/api/v1/pods?labelSelector=%C3%A9%C3%A9%');
      expect(unknown.truncated).toBe(true);
      expect(Buffer.byteLength(JSON.stringify(unknown))).toBeLessThan(6_000);

      const plain = await h.request(PODS, { credentials: alice, headers: [['User-Agent', 'kubectl/v1.32.0']] });
      expect(await eventOf(plain.headers['audit-id'])).not.toHaveProperty('truncated');
    });

    it('records a stream over the user’s cap (429)', async () => {
      const carl = await h.issue({ username: 'carl' });
      await started(get(`${PODS}?watch=true`), carl, /^HTTP\/1\.1 200 /);
      await started(get(`${PODS}?watch=true`), carl, /^HTTP\/1\.1 200 /);
      const res = await h.request(`${PODS}?watch=true`, { credentials: carl });
      expect(res.status).toBe(429);
      expect(await eventOf(res.headers['audit-id'])).toMatchObject({ user: 'carl', response_code: 429 });
    });

    it('records a locked identity’s refusal with the lock’s message', async () => {
      const lou = await h.issue({ username: 'lou' });
      await locks.put('lock', 'lou-out', {
        kind: 'lock',
        version: 'v2',
        metadata: { name: 'lou-out' },
        spec: { target: { user: 'lou' }, message: 'Incident 42.' },
      });
      let refused = await h.request(PODS, { credentials: lou });
      await expect.poll(async () => (refused = await h.request(PODS, { credentials: lou })).status, { timeout: 5_000 }).toBe(403);
      const event = await eventOf(refused.headers['audit-id']);
      expect(event).toMatchObject({ user: 'lou', response_code: 403, message: 'lock targeting User:"lou" is in force: Incident 42.' });
    });

    it('records heads the HTTP parser refuses: too large (431) with the certificate’s user, unreadable (400)', async () => {
      const huge = `GET ${PODS} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: big/1\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`;
      const tooLarge = await h.raw(huge, alice);
      expect(tooLarge).toMatch(/^HTTP\/1\.1 431 /);
      const large = await eventOf(auditIdIn(tooLarge));
      expect(large).toMatchObject({
        user: 'alice',
        response_code: 431,
        verb: 'GET',
        request_path: '/api/v1/namespaces/default/pods',
        user_agent: 'big/1',
      });

      const garbage = await h.raw('NOT HTTP AT ALL\r\n\r\n');
      expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
      const unreadable = await eventOf(auditIdIn(garbage));
      expect(unreadable).toMatchObject({ response_code: 400, 'addr.remote': '127.0.0.1' });
      expect(unreadable).not.toHaveProperty('user');
    });
  });

  describe('requests Node would answer by itself', () => {
    /** Writes `bytes` on a fresh connection of alice's and returns what came back once it matches `answer`. */
    const answered = async (bytes: string, answer: RegExp) => {
      const connection = await started(bytes, alice, answer);
      connection.socket.destroy();
      return connection.received();
    };

    it('refuses an HTTP/1.1 request without Host with a 400 Status that names the fix, and records it', async () => {
      for (const [bytes, verb] of [
        [`GET ${PODS}/no-host HTTP/1.1\r\n\r\n`, 'GET'],
        [rawUpgrade(`${PODS}/no-host/exec?command=cat&stdin=true`).replace('Host: localhost\r\n', ''), 'GET'],
      ] as const) {
        const answer = await answered(bytes, /^HTTP\/1\.1 400 [^]*\}/);
        expect(answer).toMatch(/no Host header, which HTTP\/1\.1 requires/);
        expect(answer).toMatch(/"kind":"Status"/);
        const event = await eventOf(auditIdIn(answer));
        expect(event).toMatchObject({ user: 'alice', verb, resource_name: 'no-host', response_code: 400, end_reason: 'answered' });
        expect(event.message).toMatch(/no Host header/);
      }
      // Nothing of it went to the cluster.
      expect(h.kube.requests.filter((r) => r.path.includes('no-host'))).toHaveLength(0);
    });

    it('still takes an HTTP/1.0 request without Host', async () => {
      const answer = await answered(`GET ${PODS}/web-0 HTTP/1.0\r\n\r\n`, /^HTTP\/1\.1 200 /);
      expect((await eventOf(auditIdIn(answer))).response_code).toBe(200);
    });

    it('refuses an Expect other than 100-continue with a 417 Status, recorded with the user and the request', async () => {
      const answer = await answered(`GET ${PODS}/expecting HTTP/1.1\r\nHost: localhost\r\nExpect: foo\r\n\r\n`, /^HTTP\/1\.1 417 [^]*\}/);
      expect(answer).toMatch(/Expect: foo[^]*100-continue/);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      const event = await eventOf(auditIdIn(answer));
      expect(event).toMatchObject({
        user: 'alice',
        verb: 'GET',
        request_path: '/api/v1/namespaces/default/pods/expecting',
        resource_name: 'expecting',
        response_code: 417,
      });
      expect(h.kube.requests.filter((r) => r.path.includes('expecting'))).toHaveLength(0);
      // Without a certificate: recorded too, without a user.
      const anonymous = await h.raw(`GET ${PODS}/expecting HTTP/1.1\r\nHost: localhost\r\nExpect: foo\r\n\r\n`);
      expect(anonymous).toMatch(/^HTTP\/1\.1 417 /);
      const unauthenticated = await eventOf(auditIdIn(anonymous));
      expect(unauthenticated).toMatchObject({ response_code: 417, request_path: '/api/v1/namespaces/default/pods/expecting' });
      expect(unauthenticated).not.toHaveProperty('user');
    });

    it('still answers Expect: 100-continue with 100 Continue, then forwards the body', async () => {
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'continued' } });
      const connection = await started(
        `POST ${DEFAULT}/configmaps HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
        alice,
        /^HTTP\/1\.1 100 Continue\r\n\r\n$/,
      );
      connection.socket.write(body);
      await expect.poll(() => connection.received(), { timeout: 5_000 }).toMatch(/HTTP\/1\.1 201 [^]*"continued"/);
      connection.socket.destroy();
      const event = await eventOf(auditIdIn(connection.received().slice(connection.received().indexOf('HTTP/1.1 201'))));
      expect(event).toMatchObject({ verb: 'POST', resource_kind: 'configmaps', response_code: 201 });
    });
  });

  describe('heads refused on a connection that already carried a request', () => {
    const uidsIn = (text: string) => [...text.matchAll(/\r\naudit-id: ([^\r\n]+)/gi)].map((m) => m[1]!);

    it('never records a later head too large to read under the first request’s verb and path', async () => {
      const connection = await started(get(`${PODS}/first-request`), alice, /^HTTP\/1\.1 \d{3} [^]*\r\n\r\n/);
      await expect.poll(() => uidsIn(connection.received()).length, { timeout: 5_000 }).toBe(1);
      connection.socket.write(`DELETE ${PODS}/the-real-one HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${'a'.repeat(40_000)}\r\n\r\n`);
      await expect.poll(() => connection.received(), { timeout: 5_000 }).toMatch(/HTTP\/1\.1 431 /);
      const uids = uidsIn(connection.received());
      expect(uids).toHaveLength(2);
      connection.socket.destroy();
      const refused = await eventOf(uids[1]);
      expect(refused).toMatchObject({ user: 'alice', response_code: 431, verb: '', request_path: '', head_unreadable: true });
      expect(JSON.stringify(refused)).not.toContain('first-request');
    });

    it('never records a pipelined unreadable head under the request before it; a readable one under its own line', async () => {
      for (const [second, code, fields] of [
        ['NOT HTTP AT ALL\r\n\r\n', 400, { verb: '', request_path: '', head_unreadable: true }],
        [
          `DELETE ${PODS}/the-real-one HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n`,
          400,
          { verb: 'DELETE', resource_name: 'the-real-one' },
        ],
      ] as const) {
        // The refusal is written at once, ahead of the first request's answer, and ends the connection.
        const connection = await started(get(`${PODS}/first-request`) + second, alice, new RegExp(`HTTP/1\\.1 ${code} [^]*\\}$`));
        connection.socket.destroy();
        const refused = await eventOf(uidsIn(connection.received()).at(-1));
        expect(refused).toMatchObject({ user: 'alice', response_code: code, ...fields });
        expect(JSON.stringify(refused)).not.toContain('first-request');
      }
    });

    it('still names the first request of a connection when its head is too large', async () => {
      const answer = await h.raw(`PUT ${PODS}/only-one HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${'a'.repeat(40_000)}\r\n\r\n`, alice);
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      const event = await eventOf(auditIdIn(answer));
      expect(event).toMatchObject({ user: 'alice', verb: 'PUT', resource_name: 'only-one', response_code: 431 });
      expect(event).not.toHaveProperty('head_unreadable');
    });
  });

  describe('discovery requests', () => {
    it('counts them per user and cluster into one kube.discovery event instead of one event each', async () => {
      const dave = await h.issue({ username: 'dave' });
      const paths = [
        '/k8s/dev/api',
        '/k8s/dev/apis',
        '/k8s/dev/api/v1',
        '/k8s/dev/apis/authorization.k8s.io/v1',
        '/k8s/dev/version',
        '/k8s/prod/api',
      ];
      const ids: string[] = [];
      for (const path of paths) {
        const res = await h.request(path, { credentials: dave });
        expect(res.status, path).toBe(200);
        ids.push(res.headers['audit-id'] as string);
      }
      // The requests may straddle two periods: each period reports what it counted.
      const counted = () => sink.named('kube.discovery').filter((e) => e.user === 'dave');
      const total = (cluster: string) =>
        counted()
          .filter((e) => e.kubernetes_cluster === cluster)
          .reduce((sum, e) => sum + (e.count as number), 0);
      await expect.poll(() => [total('dev'), total('prod')], { timeout: 5_000 }).toEqual([5, 1]);
      for (const event of counted()) {
        expect(event).toMatchObject({ code: 'KP3009I', proto: 'kube' });
        expect(Date.parse(event.period_start as string)).toBeLessThanOrEqual(Date.parse(event.period_end as string));
      }
      // One event per pair and period, not per request.
      expect(counted().length).toBeLessThanOrEqual(4);
      expect(sink.events.filter((e) => ids.includes(e.uid))).toHaveLength(0);
    });
  });
});

describe('discovery counts at close', () => {
  it('hands what is counted to the sink when the agent closes, before its owner flushes the sink', async () => {
    const sink = new RecordingAuditSink();
    const h = await startAgentHarness({ audit: sink });
    const erin = await h.issue({ username: 'erin' });
    for (let i = 0; i < 3; i++) expect((await h.request('/k8s/dev/apis', { credentials: erin })).status).toBe(200);
    expect(sink.named('kube.discovery')).toHaveLength(0);
    await h.close();
    expect(sink.named('kube.discovery')).toEqual([expect.objectContaining({ user: 'erin', kubernetes_cluster: 'dev', count: 3 })]);
  });
});

describe('audit: strict', () => {
  const sink = new RecordingAuditSink();
  let h: AgentHarness;
  const open: OpenConnection[] = [];
  beforeAll(async () => {
    h = await startAgentHarness({ audit: sink, kube: LONG_STREAMS });
    h.roles.set('audited', role('audited', { options: { audit: 'strict' } }));
  });
  afterAll(async () => {
    for (const connection of open) connection.socket.destroy();
    await h?.close();
  });

  it('refuses strict identities with a 503 that names the role and the fix while events cannot be stored, and ends their streams', async () => {
    const sid = await h.issue({ username: 'sid', roles: ['access', 'audited'] });
    const bea = await h.issue({ username: 'bea' });
    expect((await h.request(PODS, { credentials: sid })).status).toBe(200);
    const watch = h.open(get(`${PODS}?watch=true`), sid);
    open.push(watch);
    await expect.poll(() => watch.received(), { timeout: 5_000 }).toMatch(/^HTTP\/1\.1 200 /);

    sink.healthy = false;
    const refused = await h.request(PODS, { credentials: sid });
    expect(refused.status).toBe(503);
    const status = JSON.parse(refused.body);
    expect(status).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable' });
    expect(status.message).toBe(
      'Kubeport cannot store audit events right now, and role "audited" sets audit: strict; retry in a minute, or ask an admin to check the agent\'s audit store',
    );
    // The refusal itself is still handed to the sink (which spools it).
    expect(
      (await new Promise<AuditEvent>((resolve) => setTimeout(() => resolve(sink.byUid(refused.headers['audit-id'] as string)), 50)))
        .response_code,
    ).toBe(503);
    // best_effort identities go on.
    expect((await h.request(PODS, { credentials: bea })).status).toBe(200);
    await streamEnded(watch);
    expect(watch.received()).toContain('Kubeport cannot store audit events right now');

    sink.healthy = true;
    expect((await h.request(PODS, { credentials: sid })).status).toBe(200);
  });
});

describe('audit: strict on an agent without an audit sink', () => {
  let h: AgentHarness;
  beforeAll(async () => {
    h = await startAgentHarness({});
    h.roles.set('audited', role('audited', { options: { audit: 'strict' } }));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses strict identities with a 503 that names the missing audit store, and lets best_effort ones on', async () => {
    const refused = await h.request(PODS, { credentials: await h.issue({ username: 'sid', roles: ['access', 'audited'] }) });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).message).toBe(
      'role "audited" sets audit: strict, but this Kubeport agent has no audit store configured, so nothing it answers would be recorded; ask an admin to give the agent an audit store (or remove audit: strict from the role)',
    );
    expect(h.kube.requests.filter((r) => headerValues(r, 'impersonate-user').includes('sid'))).toHaveLength(0);
    expect((await h.request(PODS, { credentials: await h.issue({ username: 'bea' }) })).status).toBe(200);
  });
});

describe('/healthz', () => {
  const sink = new RecordingAuditSink();
  let h: AgentHarness;
  let alice: ClientCredentials;
  beforeAll(async () => {
    h = await startAgentHarness({ audit: sink });
    alice = await h.issue({ username: 'alice' });
    await h.request(PODS, { credentials: alice });
  });
  afterAll(async () => h?.close());

  it('answers without a client certificate with the status alone: no audit counters', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await h.request('/healthz', { method });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
      if (method === 'GET') expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
      expect(Number(res.headers['content-length'])).toBe(JSON.stringify({ status: 'ok' }).length);
    }
  });

  it('keeps the counters from certificates of another CA and expired ones', async () => {
    const other = await newCa('Another user CA', h.clock);
    const foreign = await h.issue({ username: 'mallory' }, { ca: other });
    const expired = await h.issue({ username: 'alice' }, { at: new Date(Date.now() - 7_200_000), ttlMs: 3_600_000 });
    for (const credentials of [foreign, expired]) {
      const res = await h.request('/healthz?verbose=1', { credentials });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
    }
  });

  it('adds the audit counters for any user with a valid certificate, and names nothing else', async () => {
    const bob = await h.issue({ username: 'bob', roles: [] });
    for (const credentials of [alice, bob]) {
      const res = await h.request('/healthz', { credentials });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({
        status: 'ok',
        audit: { healthy: true, written: sink.events.length, spooled: 0, dropped: 0, pending: 0 },
      });
      for (const secret of ['alice', 'bob', 'dev', 'prod', 'access', 'kubernetes']) expect(res.body).not.toContain(secret);
    }
    // Not a request of anyone's: no event, with or without a certificate.
    expect(sink.events.filter((e) => String(e.request_path).includes('healthz'))).toHaveLength(0);
  });

  it.each([
    ['/healthz/', 'GET'],
    ['/healthz/../k8s/dev/api', 'GET'],
    ['/healthzz', 'GET'],
    ['/HEALTHZ', 'GET'],
    ['/healthz', 'POST'],
    ['/', 'GET'],
    ['/metrics', 'GET'],
    ['/k8s/dev/api/v1/pods', 'GET'],
  ])('still answers %s (%s) without a certificate with 401', async (path, method) => {
    const res = await h.request(path, { method });
    expect(res.status).toBe(401);
    expect(res.body).not.toContain('"audit"');
  });

  it('says draining (503) once the agent drains; a request refused by the drain is recorded', async () => {
    const ops = await h.issue({ username: 'ops' });
    // Each asks again while a watch holds its connection (it ends by itself within a second),
    // so the second request arrives on a busy connection after the drain began.
    const watch = get(`${PODS}?watch=true`);
    const health = h.open(watch, ops);
    const kube = h.open(watch, ops);
    for (const connection of [health, kube]) await expect.poll(() => connection.received(), { timeout: 5_000 }).toMatch(/^HTTP\/1\.1 200 /);
    const drained = h.agent.drain(5_000);
    health.socket.write(get('/healthz'));
    kube.socket.write(get(PODS));
    await expect.poll(() => health.received(), { timeout: 5_000 }).toMatch(/HTTP\/1\.1 503 [^]*"status":"draining"/);
    await expect.poll(() => kube.received(), { timeout: 5_000 }).toMatch(/HTTP\/1\.1 503 [^]*shutting down/);
    const uid = [...kube.received().matchAll(/\r\naudit-id: ([^\r\n]+)/gi)].at(-1)![1]!;
    expect(sink.byUid(uid)).toMatchObject({
      user: 'ops',
      kubernetes_cluster: 'dev',
      request_path: '/api/v1/namespaces/default/pods',
      response_code: 503,
      end_reason: 'agent draining',
    });
    health.socket.destroy();
    kube.socket.destroy();
    await drained;
  });
});

describe('through the real writer over DynamoDB', () => {
  let store: AuditedStore;
  let h: AgentHarness;
  beforeAll(async () => {
    store = await startAuditedStore();
    h = await startAgentHarness({ audit: store.writer, kube: LONG_STREAMS });
    h.roles.set('audited', role('audited', { options: { audit: 'strict' } }));
  });
  afterAll(async () => {
    await h?.close();
    await store?.close();
  });

  it('stores one event per request, refused and upgraded ones included, and the discovery counts once the agent closes', async () => {
    const alice = await h.issue({ username: 'alice' });
    const other = await newCa('Another user CA', h.clock);
    const answers = [
      await h.request(PODS, { credentials: alice }),
      await h.request(`${PODS}/web-0`, { credentials: alice }),
      await h.request('/k8s/nowhere/api/v1/pods', { credentials: alice }),
      await h.request(PODS),
      await h.request(PODS, { credentials: await h.issue({ username: 'mallory' }, { ca: other }) }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 401, 401]);
    const exec = h.open(rawUpgrade(CAT), alice);
    await expect.poll(() => exec.received(), { timeout: 5_000 }).toMatch(/^HTTP\/1\.1 101 /);
    exec.socket.destroy();
    for (let i = 0; i < 4; i++) expect((await h.request('/k8s/dev/apis', { credentials: alice })).status).toBe(200);
    const uids = [...answers.map((a) => a.headers['audit-id'] as string), /\r\naudit-id: ([^\r\n]+)/i.exec(exec.received())![1]!];

    await h.agent.close();
    await store.writer.flush(5_000);
    const stored = await store.stored();
    for (const uid of uids)
      expect(
        stored.filter((e) => e.uid === uid),
        uid,
      ).toHaveLength(1);
    expect(stored.filter((e) => e.event === 'kube.request')).toHaveLength(uids.length);
    expect(stored.filter((e) => e.event === 'kube.discovery')).toEqual([
      expect.objectContaining({ user: 'alice', kubernetes_cluster: 'dev', count: 4 }),
    ]);
    expect(stored.find((e) => e.uid === uids[0])).toMatchObject({ user: 'alice', response_code: 200, resource_kind: 'pods' });
    expect(store.writer.counters()).toMatchObject({ dropped: 0, pending: 0 });
  });
});

describe('audit: strict with the real writer, the store stopped and started', () => {
  let store: AuditedStore;
  let h: AgentHarness;
  beforeAll(async () => {
    store = await startAuditedStore();
    h = await startAgentHarness({ audit: store.writer });
    h.roles.set('audited', role('audited', { options: { audit: 'strict' } }));
  });
  afterAll(async () => {
    await h?.close();
    await store?.close();
  });

  it('refuses strict identities while the store is down, lets best_effort ones on (spooled), and lets both in once it is back', async () => {
    const sid = await h.issue({ username: 'sid', roles: ['access', 'audited'] });
    const bea = await h.issue({ username: 'bea' });
    expect((await h.request(PODS, { credentials: sid })).status).toBe(200);
    await store.stop();
    // The writer learns the store is gone from the events it cannot write.
    await expect
      .poll(async () => (await h.request(PODS, { credentials: bea })).status === 200 && !store.writer.healthy, { timeout: 10_000 })
      .toBe(true);
    const refused = await h.request(PODS, { credentials: sid });
    expect(refused.status).toBe(503);
    expect(refused.body).toContain('role \\"audited\\" sets audit: strict');
    const health = JSON.parse((await h.request('/healthz', { credentials: bea })).body);
    expect(health.audit).toMatchObject({ healthy: false, dropped: 0 });
    expect(health.audit.spooled).toBeGreaterThan(0);

    await store.start();
    await expect.poll(() => store.writer.healthy, { timeout: 10_000 }).toBe(true);
    const allowed = await h.request(PODS, { credentials: sid });
    expect(allowed.status).toBe(200);
    await store.writer.flush(5_000);
    await expect.poll(() => store.writer.counters().pending, { timeout: 10_000 }).toBe(0);
    const stored = await store.stored();
    // The refusal was spooled and replayed: stored once, like every other.
    for (const answer of [refused, allowed]) expect(stored.filter((e) => e.uid === answer.headers['audit-id'])).toHaveLength(1);
    expect(store.writer.counters().dropped).toBe(0);
  });
});

describe('finish hooks', () => {
  it('runs every hook even when one throws, and logs the failure', () => {
    const seen: string[] = [];
    const logged: string[] = [];
    const hook = finishHooks(
      [
        () => {
          throw new Error('disk full');
        },
        (scope) => seen.push(scope.id),
      ],
      (line) => logged.push(line),
    );
    hook!(createScope('r-1', 'GET', '/k8s/dev/api', false, '127.0.0.1', new Date()));
    expect(seen).toEqual(['r-1']);
    expect(logged).toEqual(['agent finish hook failed for request r-1: disk full']);
  });
});

describe('audit: strict under a flood of refused requests, with the real writer', () => {
  let store: AuditedStore;
  let h: AgentHarness;
  beforeAll(async () => {
    // Small bounds so that the flood fills memory and spool in a moment (~1.5 KB per refused event).
    store = await startAuditedStore({ maxPending: 10, batchSize: 5, maxInFlight: 1, replayChunk: 5 }, undefined, {
      maxBytes: 150_000,
      reserveBytes: 75_000,
    });
    h = await startAgentHarness({ audit: store.writer });
    h.roles.set('audited', role('audited', { options: { audit: 'strict' } }));
  });
  afterAll(async () => {
    store?.release();
    await h?.close();
    await store?.close();
  });

  it('refuses a strict user before events could be dropped, and every request answered meanwhile has its event', async () => {
    const sid = await h.issue({ username: 'sid', roles: ['access', 'audited'] });
    const mallory = await h.issue({ username: 'mallory' });
    const flood = { path: `/k8s/nowhere/api/v1/pods?q=${'x'.repeat(8_192)}`, userAgent: `flood/${'y'.repeat(6_144)}` };
    const floodUids: string[] = [];
    const sidAnswered: string[] = [];
    const sidRefused: string[] = [];
    const before = await h.request(PODS, { credentials: sid });
    expect(before.status).toBe(200);
    sidAnswered.push(before.headers['audit-id'] as string);
    // The store takes writes but does not finish them: memory fills, then the spool.
    store.hold();

    let flooding = true;
    const flooder = async () => {
      while (flooding && floodUids.length < 500) {
        const res = await h.request(flood.path, { credentials: mallory, headers: [['User-Agent', flood.userAgent]] });
        expect(res.status).toBe(404);
        floodUids.push(res.headers['audit-id'] as string);
        // The attacker stops once strict users are refused; the spool's reserve takes what was on its way.
        if (!store.writer.healthy) flooding = false;
      }
    };
    const strictUser = async () => {
      while (flooding) {
        const res = await h.request(PODS, { credentials: sid });
        if (res.status === 200) sidAnswered.push(res.headers['audit-id'] as string);
        else sidRefused.push(`${res.status} ${JSON.parse(res.body).message}`);
      }
    };
    await Promise.all([flooder(), flooder(), strictUser()]);
    expect(store.writer.healthy).toBe(false);
    const refused = await h.request(PODS, { credentials: sid });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).message).toContain(
      'Kubeport cannot store audit events right now, and role "audited" sets audit: strict',
    );
    expect(sidRefused.every((line) => line.startsWith('503 Kubeport cannot store audit events right now'))).toBe(true);
    expect(store.writer.counters().dropped).toBe(0);

    // The store finishes its writes; the spool is replayed and has room again.
    store.release();
    await expect.poll(() => store.writer.healthy, { timeout: 10_000 }).toBe(true);
    const allowed = await h.request(PODS, { credentials: sid });
    expect(allowed.status).toBe(200);
    await h.agent.close();
    await store.writer.flush(5_000);
    await expect.poll(() => store.writer.counters().pending, { timeout: 10_000 }).toBe(0);
    const counts = new Map<string, number>();
    for (const event of await store.stored()) counts.set(event.uid, (counts.get(event.uid) ?? 0) + 1);
    const missing = [...sidAnswered, allowed.headers['audit-id'] as string, ...floodUids].filter((uid) => counts.get(uid) !== 1);
    expect(missing).toEqual([]);
    expect(store.writer.counters().dropped).toBe(0);
  }, 30_000);
});
