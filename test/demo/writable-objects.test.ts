// The stand-in's writes as the API server answers them, for what kubectl does not easily show:
// dry runs, preconditions, Status bodies, unsupported patch types, strict field validation,
// immutable ConfigMaps, Secret stringData, and a watch that starts from a list's resourceVersion.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiServer, type PemPair, startKubeApiServer } from '../../lib/demo/kube-apiserver.js';

let server: KubeApiServer;
let admin: PemPair;

beforeAll(async () => {
  // A thousand ConfigMaps in prod: the watch history (the last 1000 changes) starts after them.
  const many = Array.from({ length: 1000 }, (_, i) => ({ name: `cm-${i}` }));
  server = await startKubeApiServer({ streams: { intervalMs: 100, durationMs: 5_000 }, configMaps: { prod: many } });
  admin = await server.issueClientCert('admin', ['system:masters']);
});
afterAll(() => server?.close());

const CM = '/api/v1/namespaces/default/configmaps';

function call(method: string, path: string, body?: unknown, contentType = 'application/json') {
  return new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    const req = https.request(
      `${server.url}${path}`,
      {
        method,
        ca: server.caPem,
        cert: admin.certPem,
        key: admin.keyPem,
        headers: body === undefined ? {} : { 'content-type': contentType },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  });
}

const configMap = (name: string, data: Record<string, string>, extra: object = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data,
  ...extra,
});

describe('writes to the stand-in', () => {
  it('a dry run answers as a write would and stores nothing', async () => {
    const dry = await call('POST', `${CM}?dryRun=All`, configMap('dry', { a: '1' }));
    expect(dry.status).toBe(201);
    expect(dry.json.data).toEqual({ a: '1' });
    expect((await call('GET', `${CM}/dry`)).status).toBe(404);
  });

  it('answers AlreadyExists, Conflict and NotFound with the Status bodies of the API server', async () => {
    const first = await call('POST', CM, configMap('once', { a: '1' }));
    expect(first.status).toBe(201);
    expect((await call('POST', CM, configMap('once', { a: '2' }))).json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "once" already exists',
      reason: 'AlreadyExists',
      details: { name: 'once', kind: 'configmaps' },
      code: 409,
    });
    const stale = { ...first.json, data: { a: '3' } };
    expect((await call('PUT', `${CM}/once`, { ...first.json, data: { a: '2' } })).status).toBe(200);
    const conflict = await call('PUT', `${CM}/once`, stale);
    expect(conflict.status).toBe(409);
    expect(conflict.json.reason).toBe('Conflict');
    expect(conflict.json.message).toBe(
      'Operation cannot be fulfilled on configmaps "once": the object has been modified; please apply your changes to the latest version and try again',
    );
    const missing = await call('PATCH', `${CM}/nobody`, { data: {} }, 'application/merge-patch+json');
    expect(missing.json).toMatchObject({ code: 404, reason: 'NotFound', message: 'configmaps "nobody" not found' });
  });

  it('refuses an unknown patch type, an apply without fieldManager, and unknown fields under Strict', async () => {
    await call('POST', CM, configMap('checked', { a: '1' }));
    expect((await call('PATCH', `${CM}/checked`, { data: {} }, 'application/xml')).status).toBe(415);
    const apply = await call('PATCH', `${CM}/checked`, configMap('checked', { a: '2' }), 'application/apply-patch+yaml');
    expect(apply.status).toBe(400);
    expect(apply.json.message).toContain('requires fieldManager');
    const strict = await call('POST', `${CM}?fieldValidation=Strict`, configMap('strict', {}, { spec: { x: 1 } }));
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe('strict decoding error: unknown field "spec"');
    // Without Strict the field is dropped, with a warning.
    const warned = await call('POST', CM, configMap('warned', {}, { spec: { x: 1 } }));
    expect(warned.status).toBe(201);
    expect(warned.json.spec).toBeUndefined();
  });

  it("keeps an immutable ConfigMap as it is and turns a Secret's stringData into data", async () => {
    await call('POST', CM, configMap('frozen', { a: '1' }, { immutable: true }));
    const changed = await call('PATCH', `${CM}/frozen`, { data: { a: '2' } }, 'application/merge-patch+json');
    expect(changed.status).toBe(422);
    expect(changed.json.message).toBe('ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set');
    const secret = await call('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'pw' },
      stringData: { password: 'hunter2' },
    });
    expect(secret.json).toMatchObject({ type: 'Opaque', data: { password: Buffer.from('hunter2').toString('base64') } });
    expect(secret.json.stringData).toBeUndefined();
  });

  it("a watch from a list's resourceVersion sees what changed in between, then each change as it happens", async () => {
    const list = await call('GET', CM);
    await call('POST', CM, configMap('between', { a: '1' }));
    const events: Array<{ type: string; object: { metadata: { name: string } } }> = [];
    const done = new Promise<void>((resolve, reject) => {
      https
        .get(
          `${server.url}${CM}?watch=true&resourceVersion=${(list.json.metadata as { resourceVersion: string }).resourceVersion}`,
          { ca: server.caPem, cert: admin.certPem, key: admin.keyPem },
          (res) => {
            let pending = '';
            res.on('data', (chunk: Buffer) => {
              pending += chunk.toString();
              const lines = pending.split('\n');
              pending = lines.pop()!;
              for (const line of lines) events.push(JSON.parse(line));
              if (events.some((e) => e.type === 'DELETED')) {
                res.destroy();
                resolve();
              }
            });
          },
        )
        .on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 200));
    await call('DELETE', `${CM}/between`);
    await done;
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED between', 'DELETED between']);
  });

  it('a watch from a resourceVersion older than the history ends with ERROR 410 Expired, as the API server ends it', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      https
        .get(`${server.url}${CM}?watch=true&resourceVersion=1`, { ca: server.caPem, cert: admin.certPem, key: admin.keyPem }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(JSON.parse(reply)).toEqual({
      type: 'ERROR',
      object: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'too old resource version: 1',
        reason: 'Expired',
        code: 410,
      },
    });
  });
});
