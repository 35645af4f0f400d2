// The kubelet's half of port-forward below the upgrade: a real SPDY session on loopback, the
// stream pairing with a schedule the test runs by hand (no waiting for the 30 s timeout), and
// the pod network's answers at its edges.
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { SpdySession } from '../../lib/spdy/index.js';
import { buildFixtures } from '../../lib/demo/fixtures.js';
import { STREAM_PAIR_TIMEOUT_MS, type Schedule, createStreamPairing } from '../../lib/demo/port-forward-streams.js';
import { SpdyTestClient } from '../support/spdy-client.js';

const open: Array<{ close: () => void }> = [];
afterEach(() => {
  for (const thing of open.splice(0)) thing.close();
});

const pods = buildFixtures({
  pods: {
    default: [
      { name: 'web-0', ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9000 }] },
      { name: 'quiet-0', ports: [] },
    ],
  },
}).pods.get('default')!;
const pod = (name: string) => pods.find((s) => s.object.metadata.name === name)!.object;

/** Timeouts the test fires itself. */
function manualSchedule() {
  const due: Array<{ run: () => void; ms: number; cancelled: boolean }> = [];
  const schedule: Schedule = (run, ms) => {
    const entry = { run, ms, cancelled: false };
    due.push(entry);
    return () => (entry.cancelled = true);
  };
  return { schedule, due, fireAll: () => due.filter((d) => !d.cancelled).forEach((d) => d.run()) };
}

async function connect(podName: string, schedule: Schedule): Promise<SpdyTestClient> {
  const server = net.createServer((socket) => {
    const pairing = createStreamPairing(pod(podName), schedule);
    const session = new SpdySession(socket);
    session.on('stream', (stream) => pairing.accept(stream));
    session.on('close', () => pairing.close());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push({ close: () => server.close() });
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  const client = new SpdyTestClient(socket);
  open.push(client);
  return client;
}

describe('port-forward stream pairing', () => {
  it('an error stream whose data stream never comes is told so when the kubelet timeout passes', async () => {
    const timers = manualSchedule();
    const client = await connect('web-0', timers.schedule);
    const error = client.openStream({ streamtype: 'error', port: '9000', requestid: '0' }, true);
    await client.ping(); // the server has seen the stream
    expect(timers.due.map((d) => d.ms)).toEqual([STREAM_PAIR_TIMEOUT_MS]);
    timers.fireAll();
    expect(await error.ended).toBe('fin');
    expect(error.received().toString()).toBe('timed out waiting for the data stream of request 0');
  });

  it('a data stream whose error stream never comes is reset at the timeout; a complete pair cancels its timeout', async () => {
    const timers = manualSchedule();
    const client = await connect('web-0', timers.schedule);
    const lone = client.openStream({ streamtype: 'data', port: '9000', requestid: '1' });
    client.openStream({ streamtype: 'error', port: '9000', requestid: '2' }, true);
    const paired = client.openStream({ streamtype: 'data', port: '9000', requestid: '2' });
    await client.ping();
    expect(timers.due.map((d) => d.cancelled)).toEqual([false, true]);
    timers.fireAll();
    expect(await lone.ended).toBe('reset');
    paired.write('unharmed', true);
    expect(await paired.ended).toBe('fin');
    expect(paired.received().toString()).toBe('unharmed');
  });

  it('a port header that is not a port is refused on the error stream', async () => {
    const client = await connect('web-0', manualSchedule().schedule);
    const error = client.openStream({ streamtype: 'error', port: '90000', requestid: '0' }, true);
    const data = client.openStream({ streamtype: 'data', port: '90000', requestid: '0' });
    expect(await error.ended).toBe('fin');
    expect(error.received().toString()).toBe('invalid port header "90000": a port from 1 to 65535 is needed');
    expect(await data.ended).toBe('fin');
  });
});

describe('the pod network', () => {
  it('a pod that declares no port says so when refused', async () => {
    const client = await connect('quiet-0', manualSchedule().schedule);
    const error = client.openStream({ streamtype: 'error', port: '80', requestid: '0' }, true);
    client.openStream({ streamtype: 'data', port: '80', requestid: '0' });
    expect(await error.ended).toBe('fin');
    expect(error.received().toString()).toMatch(/: connection refused; the pod listens on no port$/);
  });

  it('an unnamed port echoes; the http port answers 400 to bytes that are not HTTP', async () => {
    const client = await connect('web-0', manualSchedule().schedule);
    client.openStream({ streamtype: 'error', port: '9000', requestid: '0' }, true);
    const echo = client.openStream({ streamtype: 'data', port: '9000', requestid: '0' });
    echo.write('ping\r\n\r\n', true);
    client.openStream({ streamtype: 'error', port: '8080', requestid: '1' }, true);
    const web = client.openStream({ streamtype: 'data', port: '8080', requestid: '1' });
    web.write('hello\r\n\r\n');
    expect(await echo.ended).toBe('fin');
    expect(echo.received().toString()).toBe('ping\r\n\r\n');
    expect(await web.ended).toBe('fin');
    expect(web.received().toString()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\nnot an HTTP request\n$/);
  });
});
