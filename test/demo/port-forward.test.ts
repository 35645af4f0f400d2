// Port-forward at the stand-in itself, without kubectl: the two handshakes kubectl makes, and the
// refusals it must be able to print (Status JSON for RBAC and a missing pod, the kubelet's plain
// text when no protocol matches).
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiServer, startKubeApiServer } from '../../lib/demo/kube-apiserver.js';

let server: KubeApiServer;

beforeAll(async () => {
  server = await startKubeApiServer({
    rbac: { devs: ['default'] },
    tokens: { 'tok-tina': { username: 'tina', groups: ['devs'] }, 'tok-olga': { username: 'olga', groups: ['ops'] } },
    pods: {
      default: [
        { name: 'web-0', containers: ['web'] },
        { name: 'job-0', phase: 'Succeeded' },
      ],
    },
  });
});
afterAll(() => server?.close());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  socket?: Duplex;
}

const PF = '/api/v1/namespaces/default/pods/web-0/portforward';

const spdyHeaders = (token: string, versions: string[] = ['portforward.k8s.io']) => [
  ['Authorization', `Bearer ${token}`],
  ['Connection', 'Upgrade'],
  ['Upgrade', 'SPDY/3.1'],
  ...versions.map((v) => ['X-Stream-Protocol-Version', v]),
];
const websocketHeaders = (token: string, protocol = 'SPDY/3.1+portforward.k8s.io') => [
  ['Authorization', `Bearer ${token}`],
  ['Connection', 'Upgrade'],
  ['Upgrade', 'websocket'],
  ['Sec-WebSocket-Version', '13'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
  ['Sec-WebSocket-Protocol', protocol],
];

/** Sends an upgrade request; a 101 keeps its socket open for the caller, anything else is read to its end. */
function upgrade(method: 'GET' | 'POST', path: string, headerPairs: string[][]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(server.url + path, {
      method,
      headers: headerPairs.flat() as unknown as Record<string, string>,
      ca: server.caPem,
      agent: false,
    });
    req.on('upgrade', (res, socket) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '', socket }));
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('port-forward handshakes', () => {
  it('SPDY: POST with Upgrade: SPDY/3.1 gets a 101 that echoes portforward.k8s.io', async () => {
    // kubectl sends one protocol; a list in one header line is split as the kubelet splits it.
    const answer = await upgrade('POST', PF, spdyHeaders('tok-tina', ['v9.example, portforward.k8s.io']));
    answer.socket?.destroy();
    expect(answer.status).toBe(101);
    expect(answer.headers.upgrade).toBe('SPDY/3.1');
    expect(answer.headers['x-stream-protocol-version']).toBe('portforward.k8s.io');
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', path: PF, status: 101, effective: { username: 'tina' } });
  });

  it('WebSocket: GET with the tunnel subprotocol gets a 101 that echoes it', async () => {
    const answer = await upgrade('GET', PF, websocketHeaders('tok-tina'));
    answer.socket?.destroy();
    expect(answer.status).toBe(101);
    expect(answer.headers['sec-websocket-protocol']).toBe('SPDY/3.1+portforward.k8s.io');
    expect(answer.headers['sec-websocket-accept']).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('SPDY without portforward.k8s.io: 403 in the kubelet words, with the accepted version', async () => {
    const answer = await upgrade('POST', PF, spdyHeaders('tok-tina', ['v4.channel.k8s.io']));
    expect(answer.status).toBe(403);
    expect(answer.headers['x-accepted-stream-protocol-versions']).toBe('portforward.k8s.io');
    expect(answer.body).toBe(
      'unable to upgrade: unable to negotiate protocol: client supports [v4.channel.k8s.io], server accepts [portforward.k8s.io]',
    );
  });

  it('WebSocket without the tunnel subprotocol: 400 that names it', async () => {
    const answer = await upgrade('GET', PF, websocketHeaders('tok-tina', 'v5.channel.k8s.io'));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).message).toContain('needs the subprotocol SPDY/3.1+portforward.k8s.io');
  });
});

describe('port-forward refusals', () => {
  it('RBAC asks get pods/portforward for the WebSocket GET and create for the SPDY POST', async () => {
    const viaWebSocket = await upgrade('GET', PF, websocketHeaders('tok-olga'));
    expect(viaWebSocket.status).toBe(403);
    expect(JSON.parse(viaWebSocket.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "web-0" is forbidden: User "olga" cannot get resource "pods/portforward" in API group "" in the namespace "default"',
      reason: 'Forbidden',
      details: { name: 'web-0', kind: 'pods' },
      code: 403,
    });
    const viaSpdy = await upgrade('POST', PF, spdyHeaders('tok-olga'));
    expect(viaSpdy.status).toBe(403);
    expect(JSON.parse(viaSpdy.body).message).toContain('User "olga" cannot create resource "pods/portforward"');
  });

  it('a pod that does not exist is a 404 Status; one that is not Running a 400', async () => {
    const missing = await upgrade('POST', '/api/v1/namespaces/default/pods/nope/portforward', spdyHeaders('tok-tina'));
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).message).toBe('pods "nope" not found');
    const done = await upgrade('GET', '/api/v1/namespaces/default/pods/job-0/portforward', websocketHeaders('tok-tina'));
    expect(done.status).toBe(400);
    expect(JSON.parse(done.body).message).toBe('unable to upgrade connection: pod job-0 is not running (phase Succeeded)');
  });

  it('no credentials: 401 Status', async () => {
    const answer = await upgrade('POST', PF, spdyHeaders('no-such-token'));
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body).reason).toBe('Unauthorized');
  });
});
