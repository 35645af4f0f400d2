// What a client (or a proxied server) must not be able to hold through the agent: a refused
// upgrade's socket left open (connection slots, a drain that never ends), slots of requests whose
// client left during authorization, memory of a relay being ended while its server floods, and a
// stream authorized just before a lock arrived.
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../../lib/client/api-client.js';
import { type AgentHarness, rawUpgrade, startAgentHarness, streamEnded } from '../support/agent-harness.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';

const PODS = '/k8s/dev/api/v1/namespaces/default/pods';
const CAT = '/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=cat&stdin=true&stdout=true';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const connections = (h: AgentHarness) => new Promise<number>((resolve) => h.agent.server.getConnections((_e, n) => resolve(n)));

/** A client without a certificate that asks for an upgrade, then never reads nor closes. */
function silentUpgrade(h: AgentHarness): tls.TLSSocket {
  const socket = tls.connect({ host: '127.0.0.1', port: h.port, ca: h.hostCa.certPem, servername: 'localhost' }, () => {
    socket.write(`GET ${PODS} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`);
    socket.pause();
  });
  socket.on('error', () => undefined);
  return socket;
}

describe('resources a client cannot hold', () => {
  const harnesses: AgentHarness[] = [];
  const sockets: Duplex[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(harnesses.splice(0).map((h) => h.close().catch(() => undefined)));
  });
  const start = async (options: Parameters<typeof startAgentHarness>[0] = {}) => {
    const h = await startAgentHarness(options);
    harnesses.push(h);
    return h;
  };

  it('closes a refused upgrade whose client never reads or closes within the grace, and a drain does not wait for it', async () => {
    const h = await start();
    sockets.push(silentUpgrade(h));
    await expect.poll(() => connections(h), { timeout: 2_000 }).toBe(1);
    // The refusal's grace is 2 s; the connection is gone soon after, though the client did nothing.
    await expect.poll(() => connections(h), { timeout: 4_000, interval: 200 }).toBe(0);

    const other = await start();
    sockets.push(silentUpgrade(other));
    await expect.poll(() => connections(other), { timeout: 2_000 }).toBe(1);
    await sleep(100);
    const drained = other.agent.drain(500).then(() => 'drained');
    expect(await Promise.race([drained, sleep(6_000).then(() => 'still waiting')])).toBe('drained');
  }, 20_000);

  it('gives back the slots of requests whose clients left while they were being authorized', async () => {
    const h = await start({ limits: { maxUpstreamRequestsPerUser: 4, maxStreamsPerUser: 2 }, delays: { loadUserMs: 50 } });
    const eve = await h.issue({ username: 'eve' });
    const vanish = (bytes: string) =>
      new Promise<void>((resolve) => {
        const socket = tls.connect(
          { host: '127.0.0.1', port: h.port, ca: h.hostCa.certPem, servername: 'localhost', cert: eve.certPem, key: eve.keyPem },
          () => socket.write(bytes, () => setTimeout(() => (socket.destroy(), resolve()), 1)),
        );
        socket.on('error', () => resolve());
      });
    for (let i = 0; i < 20; i++) await vanish(`GET ${PODS} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    for (let i = 0; i < 4; i++) await vanish(rawUpgrade(CAT));
    await sleep(500);
    expect((await h.request(PODS, { credentials: eve })).status).toBe(200);
    const exec = h.open(rawUpgrade(CAT), eve);
    sockets.push(exec.socket);
    await expect.poll(() => exec.received(), { timeout: 5_000 }).toMatch(/^HTTP\/1.1 101 /);
  }, 20_000);

  it('keeps backpressure while ending a relay whose server declares a huge frame and floods; the agent does not buffer it', async () => {
    let sent = 0;
    let upstreamClosed = false;
    const h = await start({
      customUpstream: (_req, res) => res.end('not an upgrade'),
      customUpgrade: (_req, socket) => {
        socket.on('error', () => undefined);
        socket.on('close', () => (upstreamClosed = true));
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n');
        // One binary frame of 2^40 bytes, never finished: the agent cannot reach a boundary.
        socket.write(Buffer.from([0x82, 0x7f, 0, 0, 1, 0, 0, 0, 0, 0]));
        const chunk = Buffer.alloc(64 * 1024, 0x41);
        // Counts what the agent took: each write beyond the first refused one waits for a drain.
        const pump = () => {
          while (socket.writable) {
            sent += chunk.length;
            if (!socket.write(chunk)) break;
          }
        };
        socket.on('drain', pump);
        pump();
      },
    });
    const eve = await h.issue({ username: 'eve' }, { ttlMs: 60_000 });
    const ws = h.open(
      `GET /k8s/custom/api/v1/namespaces/default/pods/p/proxy/ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      eve,
    );
    sockets.push(ws.socket);
    await expect.poll(() => ws.received().slice(0, 12), { timeout: 5_000 }).toBe('HTTP/1.1 101');
    ws.socket.pause();
    await sleep(500);
    const before = sent;
    // The certificate expires: the agent ends the stream, mid-frame.
    h.clock.advance(120_000);
    await expect.poll(() => upstreamClosed, { timeout: 5_000 }).toBe(true);
    // Before the fix the agent read on without limit (over 180 MiB in the 2 s it gave the frame to finish).
    expect(sent - before).toBeLessThan(16 * 1024 * 1024);
  }, 20_000);
});

describe('a stream authorized just before a lock arrives', () => {
  let api: ApiHarness | undefined;
  let h: AgentHarness | undefined;
  afterEach(async () => {
    await h?.close();
    await api?.close();
  });

  it('is ended as soon as it is tracked, not at the next sweep', async () => {
    api = await startApiHarness();
    const admin = await api.identity({ username: 'kubeport-admin', roles: ['editor'] });
    const client = new ApiClient(api.proxy, 'kubeport:kubeport-test', api.clock);
    // The cluster lookup comes after the lock check: the lock arrives while it runs. No sweep
    // reauthorizes within this test.
    h = await startAgentHarness({
      locks: { store: api.deps.resources, pollMs: 50 },
      kube: { streams: { durationMs: Infinity } },
      delays: { resolveClusterMs: 1_500 },
      limits: { streamRecheckMs: 60_000 },
    });
    const eve = await h.issue({ username: 'eve' });
    const watch = h.open(`GET ${PODS}?watch=true HTTP/1.1\r\nHost: localhost\r\n\r\n`, eve);
    await watch.written;
    await sleep(200);
    await client.call(
      'POST',
      '/webapi/admin/resources',
      {
        documents: [{ kind: 'lock', metadata: { name: 'eve-out' }, spec: { target: { user: 'eve' }, message: 'eve is locked out' } }],
        source: 'test',
      },
      admin,
    );
    await streamEnded(watch, 5_000);
    expect(watch.received()).toContain('eve is locked out');
  }, 20_000);
});
