// Sessions through the real agent to the stand-in, over WebSocket v5 and SPDY/3.1, recorded to
// the embedded S3: the recording's output is the bytes the client got, resizes land, parts are
// stored while the session runs, keystrokes only when a role asks; and the session events.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../lib/adapters/aws/clients.js';
import { S3RecordingStore } from '../../lib/adapters/aws/s3-recording-store.js';
import type { EmbeddedStore } from '../../lib/adapters/local/embedded-dynamodb.js';
import { startEmbeddedS3 } from '../../lib/adapters/local/embedded-s3.js';
import { castOutputText, parseCast } from '../../lib/core/asciicast.js';
import type { AuditCounters, AuditEvent, AuditSink, RecordingStore } from '../../lib/core/ports.js';
import { type AgentHarness, type ClientCredentials, startAgentHarness } from '../support/agent-harness.js';
import { podUserRole } from '../support/roles.js';
import { type ExecClient, spdyExec, webSocketExec } from '../support/session-clients.js';
import { postSpdyUpgrade } from '../support/raw-exec.js';

/** Keeps what the agent submits. */
/** Collects the session events (this file's subject; every request's kube.request is agent-audit's). */
class CollectedEvents implements AuditSink {
  readonly events: AuditEvent[] = [];
  readonly healthy = true;
  submit(event: AuditEvent): void {
    if (event.event !== 'kube.request' && event.event !== 'kube.discovery') this.events.push(event);
  }
  counters(): AuditCounters {
    return { written: this.events.length, spooled: 0, dropped: 0, pending: 0 };
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  of(sid: string): AuditEvent[] {
    return this.events.filter((e) => e.sid === sid);
  }
}

const EXEC = '/k8s/dev/api/v1/namespaces/default/pods/web-0/exec';
const SH_TTY = `${EXEC}?command=sh&container=web&stdin=true&stdout=true&tty=true`;

const TRANSPORTS = [
  { name: 'WebSocket', open: webSocketExec, verb: 'GET' },
  { name: 'SPDY', open: spdyExec, verb: 'POST' },
] as const;

let dataDir: string;
let s3: EmbeddedStore;
let s3Client: S3Client;
let store: S3RecordingStore;
let audit: CollectedEvents;
let h: AgentHarness;
let alice: ClientCredentials;
let typist: ClientCredentials;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'session-recording-'));
  s3 = await startEmbeddedS3({ dataDir, buckets: ['kubeport-recordings'] });
  s3Client = makeS3Client({ socketPath: s3.socketPath, region: 'local', forcePathStyle: true });
  store = new S3RecordingStore(s3Client, 'kubeport-recordings');
  audit = new CollectedEvents();
  h = await startAgentHarness({ audit, recordings: store, limits: { recordingPartMs: 150 } });
  h.roles.set('pod-user', podUserRole());
  h.roles.set('input-recorded', podUserRole('input-recorded', '{record_session: {kubernetes_input: true}}'));
  alice = await h.issue({ username: 'alice', roles: ['pod-user'] });
  typist = await h.issue({ username: 'typist', roles: ['pod-user', 'input-recorded'] });
});

afterAll(async () => {
  await h?.close();
  s3Client?.destroy();
  await s3?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** The sessions with parts in the bucket. */
async function recordedSessions(): Promise<string[]> {
  const listed = await s3Client.send(new ListObjectsV2Command({ Bucket: 'kubeport-recordings', Prefix: 'sessions/' }));
  return [...new Set((listed.Contents ?? []).map((o) => o.Key!.split('/')[1]!))];
}

/** The session id of the newest upgrade `user` made: the Audit-ID of its request. */
const latestSession = (user: string) => h.finished.filter((s) => s.upgrade && s.identity?.username === user).at(-1)?.id;

async function sessionIdOf(client: ExecClient, user: string): Promise<string> {
  await client.status;
  await expect.poll(() => latestSession(user)).toBeDefined();
  return latestSession(user)!;
}

async function uploaded(sid: string): Promise<AuditEvent> {
  await expect.poll(() => audit.of(sid).some((e) => e.event === 'session.upload'), { timeout: 10_000 }).toBe(true);
  return audit.of(sid).find((e) => e.event === 'session.upload')!;
}

describe.each(TRANSPORTS)('a terminal session over $name through the agent', (transport) => {
  it('is recorded: the output text is the bytes the client got, the size is the first resize, later resizes are events', async () => {
    const client = await transport.open(h, alice, SH_TTY);
    client.resize(120, 40);
    await client.until('root@web-0:/# ');
    client.type('echo héllo ✓ wörld\r');
    await client.until('héllo ✓ wörld\r\n');
    client.resize(100, 30);
    client.type('stty size\r');
    await client.until('30 100\r\n');
    client.type('exit 3\r');
    const status = await client.status;
    expect(status).toMatchObject({ status: 'Failure', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
    const sid = await sessionIdOf(client, 'alice');
    const upload = await uploaded(sid);
    expect(upload).toMatchObject({ uid: `${sid}/upload`, url: `s3://kubeport-recordings/sessions/${sid}/`, user: 'alice' });

    const cast = parseCast((await store.read(sid))!.toString());
    expect(cast.torn).toBe(false);
    expect(cast.header).toMatchObject({
      version: 2,
      width: 120,
      height: 40,
      command: 'sh',
      kubeport: { session_id: sid, user: 'alice', cluster: 'dev', namespace: 'default', pod: 'web-0', container: 'web', type: 'exec' },
    });
    expect(castOutputText(cast.events)).toBe(client.stdout().toString());
    expect(cast.events.filter((e) => e[1] === 'r').map((e) => e[2])).toEqual(['100x30']);
    expect(cast.events.some((e) => e[1] === 'i')).toBe(false);
    const times = cast.events.map((e) => e[0]);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    client.close();
  });

  it('tells the session in events: session.start with the size, exec with exit code 3 and bytes, session.end', async () => {
    const client = await transport.open(h, alice, SH_TTY);
    client.resize(90, 20);
    await client.until('root@web-0:/# ');
    client.type('exit 3\r');
    const sid = await sessionIdOf(client, 'alice');
    await uploaded(sid);
    const events = audit.of(sid);
    expect(events.map((e) => e.event).sort()).toEqual(['exec', 'session.end', 'session.start', 'session.upload']);
    const start = events.find((e) => e.event === 'session.start')!;
    expect(start).toMatchObject({
      code: 'T2000I',
      uid: `${sid}/start`,
      user: 'alice',
      kubernetes_cluster: 'dev',
      kubernetes_pod_name: 'web-0',
      kubernetes_pod_namespace: 'default',
      kubernetes_container_name: 'web',
      initial_command: ['sh'],
      tty: true,
      interactive: true,
      size: '90x20',
      session_recording: 'node',
      verb: transport.verb,
    });
    const exec = events.find((e) => e.event === 'exec')!;
    expect(exec).toMatchObject({
      code: 'T3002E',
      uid: `${sid}/exec`,
      command: 'sh',
      exitCode: '3',
      exitError: expect.stringContaining('exit code 3'),
      tty: true,
      bytes_out: client.stdout().length,
      bytes_in: Buffer.byteLength('exit 3\r'),
    });
    const end = events.find((e) => e.event === 'session.end')!;
    expect(end).toMatchObject({
      code: 'T2004I',
      uid: `${sid}/end`,
      interactive: true,
      participants: ['alice'],
      session_recording: 'node',
      bytes_in: 7,
      bytes_out: client.stdout().length,
    });
    expect(Date.parse(end.session_stop as string)).toBeGreaterThanOrEqual(Date.parse(end.session_start as string));
    expect(end.duration_ms).toBe(Date.parse(end.session_stop as string) - Date.parse(end.session_start as string));
    client.close();
  });

  it('stores parts while the session is still running', async () => {
    const before = new Set(await recordedSessions());
    const client = await transport.open(h, alice, SH_TTY);
    client.resize(80, 24);
    await client.until('root@web-0:/# ');
    client.type('echo first part\r');
    await client.until('first part\r\n');
    const started = async () => (await recordedSessions()).filter((id) => !before.has(id));
    await expect.poll(started).toHaveLength(1);
    const [sid] = await started();
    await expect.poll(async () => castOutputText(parseCast((await store.read(sid!))!.toString()).events)).toContain('first part');
    expect(h.finished.some((s) => s.id === sid)).toBe(false);
    client.type('exit\r');
    await client.status;
    client.close();
  });

  it('records keystrokes only for a role with record_session.kubernetes_input', async () => {
    const client = await transport.open(h, typist, SH_TTY);
    client.resize(80, 24);
    await client.until('root@web-0:/# ');
    client.type('echo typed\r');
    await client.until('typed\r\n');
    client.type('exit\r');
    const sid = await sessionIdOf(client, 'typist');
    await uploaded(sid);
    const cast = parseCast((await store.read(sid))!.toString());
    expect(
      cast.events
        .filter((e) => e[1] === 'i')
        .map((e) => e[2])
        .join(''),
    ).toBe('echo typed\rexit\r');
    client.close();
  });

  it('does not record an exec without a terminal, and its exec event has its command, exit code and bytes', async () => {
    const client = await transport.open(h, alice, `${EXEC}?command=echo&command=hi&stdout=true&stderr=true`);
    const sid = await sessionIdOf(client, 'alice');
    await expect.poll(() => audit.of(sid).some((e) => e.event === 'session.end')).toBe(true);
    const events = audit.of(sid);
    expect(events.map((e) => e.event).sort()).toEqual(['exec', 'session.end', 'session.start']);
    expect(events.find((e) => e.event === 'exec')).toMatchObject({
      code: 'T3002I',
      command: 'echo hi',
      exitCode: '0',
      tty: false,
      bytes_out: 3,
      bytes_in: 0,
    });
    expect(events.find((e) => e.event === 'session.start')).toMatchObject({ session_recording: 'off', tty: false });
    expect(events.find((e) => e.event === 'session.start')).not.toHaveProperty('size');
    expect(await store.read(sid)).toBeUndefined();
    client.close();
  });
});

describe('session events across transports and kinds', () => {
  it('gives an exec over WebSocket (GET) and over SPDY (POST) the same exec event fields', async () => {
    const fieldsOf = async (open: typeof webSocketExec) => {
      const client = await open(h, alice, `${EXEC}?command=echo&command=same&stdout=true&stderr=true`);
      const sid = await sessionIdOf(client, 'alice');
      await expect.poll(() => audit.of(sid).some((e) => e.event === 'exec')).toBe(true);
      client.close();
      return audit.of(sid).find((e) => e.event === 'exec')!;
    };
    const overWebSocket = await fieldsOf(webSocketExec);
    const overSpdy = await fieldsOf(spdyExec);
    expect(Object.keys(overSpdy).sort()).toEqual(Object.keys(overWebSocket).sort());
    // What differs is what differs between any two requests (ids, time, client port) and the method.
    const perRequest = new Set(['uid', 'time', 'sid', 'audit_id', 'verb', 'addr.remote']);
    const comparable = (event: AuditEvent) => Object.fromEntries(Object.entries(event).filter(([name]) => !perRequest.has(name)));
    expect(comparable(overSpdy)).toEqual(comparable(overWebSocket));
    expect([overWebSocket.verb, overSpdy.verb]).toEqual(['GET', 'POST']);
  });

  it('tells a port-forward as one port event at the 101 and a session.end with its bytes', async () => {
    const access = { url: `https://127.0.0.1:${h.port}`, caPem: h.hostCa.certPem, client: alice };
    const { head, socket } = await postSpdyUpgrade(access, '/k8s/dev/api/v1/namespaces/default/pods/web-0/portforward?ports=8080', [
      'portforward.k8s.io',
    ]);
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    await expect.poll(() => audit.events.some((e) => e.event === 'port' && e.user === 'alice')).toBe(true);
    const port = audit.events.filter((e) => e.event === 'port').at(-1)!;
    expect(port).toMatchObject({ code: 'T3003I', kubernetes_pod_name: 'web-0', kubernetes_pod_namespace: 'default', ports: ['8080'] });
    const sid = port.sid as string;
    expect(port.uid).toBe(`${sid}/port`);
    socket.write(Buffer.from([0x80, 0x03, 0x00, 0x06, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0])); // a PING the stand-in answers
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await expect.poll(() => audit.of(sid).some((e) => e.event === 'session.end')).toBe(true);
    const end = audit.of(sid).find((e) => e.event === 'session.end')!;
    expect(end.bytes_in).toBe(16);
    expect(end.bytes).toBeGreaterThanOrEqual(16);
    expect(
      audit
        .of(sid)
        .map((e) => e.event)
        .sort(),
    ).toEqual(['port', 'session.end']);
  });

  it('gives a refused upgrade no session events', async () => {
    const outsider = await h.issue({ username: 'outsider', roles: ['access'], traits: {} });
    await expect(webSocketExec(h, outsider, SH_TTY)).rejects.toThrow(/no upgrade: 403/);
    await expect.poll(() => h.finished.some((s) => s.identity?.username === 'outsider')).toBe(true);
    const sid = h.finished.find((s) => s.identity?.username === 'outsider')!.id;
    expect(audit.of(sid)).toEqual([]);
    expect(audit.events.some((e) => e.user === 'outsider')).toBe(false);
  });
});

describe('an agent that closes while a session runs', () => {
  it('ends the session with its events and stores the recording whole before close() resolves', async () => {
    const events = new CollectedEvents();
    const closing = await startAgentHarness({ audit: events, recordings: store, limits: { recordingPartMs: 60_000 } });
    try {
      closing.roles.set('pod-user', h.roles.get('pod-user')!);
      const bob = await closing.issue({ username: 'bob', roles: ['pod-user'] });
      const client = await webSocketExec(closing, bob, SH_TTY);
      client.resize(80, 24);
      await client.until('root@web-0:/# ');
      client.type('echo before the close\r');
      await client.until('before the close\r\n');
      await closing.agent.close();
      const upload = events.events.find((e) => e.event === 'session.upload');
      expect(upload).toBeDefined();
      const sid = upload!.sid as string;
      expect(events.of(sid).map((e) => e.event)).toEqual(['session.start', 'exec', 'session.end', 'session.upload']);
      const recording = parseCast((await store.read(sid))!.toString());
      expect(castOutputText(recording.events)).toBe(client.stdout().toString());
      client.close();
    } finally {
      await closing.close();
    }
  });
});

/** `head -c size /dev/zero` with a terminal, run to its end: the client got every byte. */
async function zeroesWithTerminal(agent: AgentHarness, user: ClientCredentials, size: number): Promise<ExecClient> {
  const client = await webSocketExec(agent, user, `${EXEC}?command=head&command=-c&command=${size}&command=/dev/zero&stdout=true&tty=true`);
  expect(await client.status).toMatchObject({ status: 'Success' });
  expect(client.stdout().length).toBe(size);
  return client;
}

describe('a recording store that never answers', () => {
  it('neither holds nor cuts the session: the client gets every byte, the events go out, and close() gives up at its deadline', async () => {
    let puts = 0;
    const hung: RecordingStore = {
      putPart: () => {
        puts++;
        return new Promise<void>(() => undefined);
      },
      read: async () => undefined,
      url: (sid) => `s3://nowhere/sessions/${sid}/`,
    };
    const events = new CollectedEvents();
    const stuck = await startAgentHarness({
      audit: events,
      recordings: hung,
      limits: { recordingPartMs: 50, recordingFinishMs: 300 },
    });
    try {
      stuck.roles.set('pod-user', podUserRole());
      const carol = await stuck.issue({ username: 'carol', roles: ['pod-user'] });
      const size = 4 * 1024 * 1024;
      const client = await zeroesWithTerminal(stuck, carol, size);
      await stuck.agent.close();
      expect(puts).toBeGreaterThan(0);
      expect(events.events.map((e) => e.event)).toEqual(['session.start', 'exec', 'session.end']);
      expect(events.events.find((e) => e.event === 'exec')).toMatchObject({ exitCode: '0', bytes_out: size });
      client.close();
    } finally {
      await stuck.close();
    }
  });
});

describe('a recording store slower than the output', () => {
  it('leaves output out rather than slow the session, and says so: a marker, recording_gap_bytes on session.end and session.upload, one log line', async () => {
    let gate: (() => void) | undefined;
    const opened = new Promise<void>((resolve) => (gate = resolve));
    // Every put waits until the command is done: the store is as slow as it gets and still answers.
    const slow: RecordingStore = {
      putPart: async (sid, index, body) => {
        await opened;
        await store.putPart(sid, index, body);
      },
      read: (sid) => store.read(sid),
      url: (sid) => store.url(sid),
    };
    const events = new CollectedEvents();
    const logs: string[] = [];
    const bounded = await startAgentHarness({
      audit: events,
      recordings: slow,
      log: (line) => logs.push(line),
      // The agent-wide bound, far under the session's own: it is the one that must hold.
      limits: { recordingPartMs: 50, maxHeldRecordingBytes: 64 * 1024 },
    });
    try {
      bounded.roles.set('pod-user', podUserRole());
      const dave = await bounded.issue({ username: 'dave', roles: ['pod-user'] });
      const size = 1024 * 1024;
      const client = await zeroesWithTerminal(bounded, dave, size);
      gate!();
      client.close();
      await bounded.agent.close();
      const end = events.events.find((e) => e.event === 'session.end')!;
      const upload = events.events.find((e) => e.event === 'session.upload')!;
      const gap = end.recording_gap_bytes as number;
      expect(gap).toBeGreaterThan(size / 2);
      expect(upload.recording_gap_bytes).toBe(gap);
      const recording = parseCast((await store.read(end.sid as string))!.toString());
      expect(castOutputText(recording.events).length + gap).toBe(size);
      expect(recording.events.some((e) => e[1] === 'm' && /^recording gap: \d+ bytes left out while the store was slow$/.test(e[2]))).toBe(
        true,
      );
      expect(logs.filter((line) => line.includes('left out of the recording'))).toEqual([
        `recording of session ${end.sid as string}: output is being left out of the recording (the recording store is not keeping up); session.end gives the bytes left out as recording_gap_bytes`,
      ]);
    } finally {
      await bounded.close();
    }
  });
});
