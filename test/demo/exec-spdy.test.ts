// exec over SPDY/3.1 on the stand-in, spoken by hand: protocol negotiation, the streams of a
// terminal session, the Status on the error stream, stdin's FIN, and refusals per verb.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiServer, startKubeApiServer } from '../../lib/demo/kube-apiserver.js';
import { type StandInAccess, accessFromKubeconfig, postSpdyUpgrade } from '../support/raw-exec.js';
import { SpdyTestClient } from '../support/spdy-client.js';

const KUBECTL_OFFERS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
const SH_WITH_TTY = '/api/v1/namespaces/default/pods/web-0/exec?command=sh&container=web&stdin=true&stdout=true&tty=true';

describe('exec over SPDY/3.1 on the stand-in', () => {
  let server: KubeApiServer;
  let access: StandInAccess;
  let kubeconfig: string;

  beforeAll(async () => {
    server = await startKubeApiServer({
      rbac: { alice: ['default'] },
      pods: { default: [{ name: 'web-0', containers: ['web'] }], prod: [{ name: 'db-0', containers: ['db'] }] },
    });
    kubeconfig = await server.writeKubeconfig(join(mkdtempSync(join(tmpdir(), 'kubeport-spdy-')), 'config'), { username: 'alice' });
    access = accessFromKubeconfig(kubeconfig);
  });
  afterAll(() => server?.close());

  it('picks v4.channel.k8s.io among what kubectl offers, and refuses a client that offers none it speaks', async () => {
    const accepted = await postSpdyUpgrade(access, SH_WITH_TTY, KUBECTL_OFFERS);
    accepted.socket.destroy();
    expect(accepted.head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(accepted.head).toContain('\r\nUpgrade: SPDY/3.1');
    expect(accepted.head).toContain('\r\nX-Stream-Protocol-Version: v4.channel.k8s.io');

    const onlyV5 = await postSpdyUpgrade(access, SH_WITH_TTY, ['v5.channel.k8s.io']);
    expect(onlyV5.head).toMatch(/^HTTP\/1\.1 403 /);
    expect(onlyV5.head).toContain('\r\nX-Accepted-Stream-Protocol-Versions: v4.channel.k8s.io');
    expect(onlyV5.body).toContain('unable to negotiate protocol');

    const none = await postSpdyUpgrade(access, SH_WITH_TTY, []);
    expect(none.head).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(none.body)).toMatchObject({ kind: 'Status', message: 'unable to upgrade: X-Stream-Protocol-Version is required' });
  });

  it('runs a terminal session over the streams: resize, stdin, PING, then the exit Status on the error stream', async () => {
    const { socket } = await postSpdyUpgrade(access, SH_WITH_TTY, KUBECTL_OFFERS);
    const client = new SpdyTestClient(socket);
    try {
      const error = client.openStream({ streamtype: 'error' }, true); // kubectl half-closes it at once
      const stdin = client.openStream({ streamtype: 'stdin' });
      const stdout = client.openStream({ streamtype: 'stdout' });
      const resize = client.openStream({ streamtype: 'resize' });
      // Two resizes in one write, as Go's json.Encoder may leave them.
      resize.write('{"Width":120,"Height":40}\n{"Width":132,"Height":43}\n');
      await client.ping();
      await expect.poll(() => stdout.received().toString()).toContain('root@web-0:/# ');
      stdin.write('stty size\r');
      await expect.poll(() => stdout.received().toString()).toContain('43 132\r\n');
      stdin.write('exit 7\r');
      expect(await error.ended).toBe('fin');
      expect(JSON.parse(error.received().toString())).toEqual({
        metadata: {},
        status: 'Failure',
        message: 'command terminated with non-zero exit code: error executing command [sh], exit code 7',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '7' }] },
      });
      expect(await stdout.ended).toBe('fin');
      expect(await client.waitFor((f) => f.type === 'GOAWAY')).toMatchObject({ status: 0 });
      expect(client.error).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it('ends a command at stdin EOF, the FIN of the stdin stream', async () => {
    const { socket } = await postSpdyUpgrade(
      access,
      '/api/v1/namespaces/default/pods/web-0/exec?command=cat&stdin=true&stdout=true&stderr=true',
      KUBECTL_OFFERS,
    );
    const client = new SpdyTestClient(socket);
    try {
      const error = client.openStream({ streamtype: 'error' }, true);
      const stdin = client.openStream({ streamtype: 'stdin' });
      const stdout = client.openStream({ streamtype: 'stdout' });
      client.openStream({ streamtype: 'stderr' });
      stdin.write('one\n');
      stdin.write('two\n', true);
      expect(await error.ended).toBe('fin');
      expect(JSON.parse(error.received().toString())).toEqual({ metadata: {}, status: 'Success' });
      expect(stdout.received().toString()).toBe('one\ntwo\n');
    } finally {
      client.close();
    }
  });

  // kubectl GETs the pod first, which the stand-in's namespace-wide RBAC refuses as well, so the
  // upgrades are sent by hand: WebSocket GET is authorized as get pods/exec, SPDY POST as create.
  it('refuses an exec in a namespace the user has no rights in, with the Status of each verb', async () => {
    const path = '/api/v1/namespaces/prod/pods/db-0/exec?command=echo&stdout=true';
    const { hostname, port } = new URL(access.url);
    const webSocket = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const req = https.request({
        host: hostname,
        port,
        path,
        ca: access.caPem,
        cert: access.client.certPem,
        key: access.client.keyPem,
        servername: 'localhost',
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Protocol': 'v5.channel.k8s.io',
        },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('upgrade', () => reject(new Error('the WebSocket exec was upgraded')));
      req.on('error', reject);
      req.end();
    });
    expect(webSocket.status).toBe(403);
    expect(JSON.parse(webSocket.body).message).toBe(
      'pods "db-0" is forbidden: User "alice" cannot get resource "pods/exec" in API group "" in the namespace "prod"',
    );
    const spdy = await postSpdyUpgrade(access, path, KUBECTL_OFFERS);
    expect(spdy.head).toMatch(/^HTTP\/1\.1 403 /);
    expect(JSON.parse(spdy.body).message).toBe(
      'pods "db-0" is forbidden: User "alice" cannot create resource "pods/exec" in API group "" in the namespace "prod"',
    );
  });
});
