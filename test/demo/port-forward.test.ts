// Port-forward at the stand-in itself, without kubectl: the two handshakes kubectl makes, and the
// refusals it must be able to print (Status JSON for RBAC and a missing pod, the kubelet's plain
// text when no protocol matches).
import { createHash, randomBytes } from 'node:crypto';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiServer, startKubeApiServer } from '../../lib/demo/kube-apiserver.js';
import { SpdyTestClient } from '../support/spdy-client.js';
import { tunnelEnd } from '../support/websocket-tunnel.js';

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
  head?: Buffer;
}

const PF = '/api/v1/namespaces/default/pods/web-0/portforward';

// Content-Length 0 as kubectl sends it: without it Node would send a chunked body into the session.
const spdyHeaders = (token: string, versions: string[] = ['portforward.k8s.io']) => [
  ['Authorization', `Bearer ${token}`],
  ['Content-Length', '0'],
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
    req.on('upgrade', (res, socket, head) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '', socket, head }));
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

/** A SPDY session with web-0 over one transport, as kubectl would open it. */
async function session(transport: 'spdy' | 'websocket', messageBytes?: number): Promise<{ client: SpdyTestClient; bytes: Duplex }> {
  const answer =
    transport === 'spdy' ? await upgrade('POST', PF, spdyHeaders('tok-tina')) : await upgrade('GET', PF, websocketHeaders('tok-tina'));
  expect(answer.status).toBe(101);
  const socket = answer.socket!;
  let bytes: Duplex = socket;
  if (transport === 'websocket') bytes = tunnelEnd(socket, answer.head!, messageBytes);
  else if (answer.head!.length > 0) socket.unshift(answer.head!);
  return { client: new SpdyTestClient(bytes), bytes };
}

/** One forwarded connection: the error stream (half-closed at once, as kubectl does), then the data stream. */
function connection(client: SpdyTestClient, port: number, requestId: number) {
  const headers = { port: String(port), requestid: String(requestId) };
  const error = client.openStream({ streamtype: 'error', ...headers }, true);
  const data = client.openStream({ streamtype: 'data', ...headers });
  return { error, data };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.each(['spdy', 'websocket'] as const)('port-forward session over %s', (transport) => {
  it('echoes megabytes on two connections at once, answers HTTP on the http port, and ends each error stream empty', async () => {
    const { client, bytes } = await session(transport);
    const payloads = [randomBytes(2 * 1024 * 1024), randomBytes(300 * 1024)];
    const echoes = payloads.map((payload, i) => {
      const { error, data } = connection(client, 9000, i);
      for (let at = 0; at < payload.length; at += 32 * 1024) data.write(payload.subarray(at, at + 32 * 1024));
      data.end();
      return { error, data };
    });
    const web = connection(client, 8080, 2);
    web.data.write('GET /x HTTP/1.1\r\nHost: pod\r\n\r\n');
    for (const [i, { error, data }] of echoes.entries()) {
      expect(await data.ended).toBe('fin');
      expect(sha(data.received())).toBe(sha(payloads[i]!));
      expect(await error.ended).toBe('fin');
      expect(error.received().length).toBe(0);
    }
    expect(await web.data.ended).toBe('fin');
    expect(web.data.received().toString()).toMatch(
      /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nHello from pod default\/web-0 .*port 8080 \(http\)\.\nYou sent: GET \/x\n$/,
    );
    await client.ping();
    bytes.destroy();
  });

  it('a port nothing listens on: the error stream carries the reason as plain text, then both streams end', async () => {
    const { client, bytes } = await session(transport);
    const { error, data } = connection(client, 7777, 0);
    data.write('anyone?');
    expect(await error.ended).toBe('fin');
    expect(error.received().toString()).toMatch(
      /^error forwarding port 7777 to pod default\/web-0, uid [0-9a-f-]{36}: failed to connect to localhost:7777 inside namespace default\/web-0: connection refused; the pod listens on 8080 \(http\), 9000 \(echo\)$/,
    );
    expect(await data.ended).toBe('fin');
    expect(data.received().length).toBe(0);
    // The session goes on: the next connection to a good port works.
    const next = connection(client, 9000, 1);
    next.data.write('still here', true);
    expect(await next.data.ended).toBe('fin');
    expect(next.data.received().toString()).toBe('still here');
    bytes.destroy();
  });

  it('pairs a data stream that comes before its error stream; resets an unknown stream type and a second data stream', async () => {
    const { client, bytes } = await session(transport);
    const data = client.openStream({ streamtype: 'data', port: '9000', requestid: '5' });
    const stray = client.openStream({ streamtype: 'stdin', port: '9000', requestid: '6' });
    expect(await stray.ended).toBe('reset');
    const twin = client.openStream({ streamtype: 'data', port: '9000', requestid: '5' });
    expect(await twin.ended).toBe('reset');
    const error = client.openStream({ streamtype: 'error', port: '9000', requestid: '5' }, true);
    data.write('late pair', true);
    expect(await data.ended).toBe('fin');
    expect(data.received().toString()).toBe('late pair');
    expect(await error.ended).toBe('fin');
    bytes.destroy();
  });
});

describe('the WebSocket tunnel', () => {
  it('carries the SPDY session in messages of any size, down to a few bytes', async () => {
    const { client, bytes } = await session('websocket', 7);
    const { error, data } = connection(client, 9000, 0);
    data.write('split across many small WebSocket messages', true);
    expect(await data.ended).toBe('fin');
    expect(data.received().toString()).toBe('split across many small WebSocket messages');
    expect(await error.ended).toBe('fin');
    bytes.destroy();
  });

  it("kubectl's Close 1000 ends the session and is answered with 1000", async () => {
    const { client, bytes } = await session('websocket');
    await client.ping();
    bytes.end();
    expect(await (bytes as ReturnType<typeof tunnelEnd>).closeCode).toBe(1000);
  });
});
