// The recordings routes over HTTP, signed as each user signs them: who sees which sessions, who
// may play which recording, a session whose agent was killed, paging, and session ids that try
// to reach other objects.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ClientError, type SigningIdentity } from '../../lib/client/api-client.js';
import { parseCast } from '../../lib/core/asciicast.js';
import type { SessionSummary } from '../../lib/core/session-summary.js';
import { apiAudience } from '../../lib/core/signed-request.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';
import { recordSession } from '../support/recorded-sessions.js';
import { startRecordingStore } from '../support/recording-store.js';

const MINUTE = 60_000;

describe('recordings API', () => {
  let harness: ApiHarness;
  let recordings: Awaited<ReturnType<typeof startRecordingStore>>;
  let api: ApiClient;
  const who: Record<string, SigningIdentity> = {};
  const sessions: Record<string, string> = {};

  const list = async (as: string, query = '') =>
    api.call<{ sessions: SessionSummary[]; cursor?: string }>('GET', `/webapi/admin/recordings${query}`, undefined, who[as]);
  const play = (as: string, sid: string) => api.text('GET', `/webapi/admin/recordings/${sid}`, who[as]);
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (error: ClientError) => ({ status: error.status, message: error.message }),
    );

  beforeAll(async () => {
    recordings = await startRecordingStore();
    harness = await startApiHarness(new Date(), { recordings: recordings.store });
    api = new ApiClient(harness.proxy, apiAudience(harness.deps.clusterName), harness.clock);
    const admin = await harness.identity({ username: 'kubeport-admin', roles: ['editor'] });
    await api.call(
      'POST',
      '/webapi/admin/resources',
      {
        documents: [
          {
            kind: 'role',
            version: 'v7',
            metadata: { name: 'session-lister' },
            spec: { allow: { rules: [{ resources: ['session'], verbs: ['list'] }] }, deny: {} },
          },
        ],
      },
      admin,
    );
    const users: [string, string[]][] = [
      ['alice', ['access']],
      ['bob', ['access']],
      // The builtin auditor role has list and read on session.
      ['carol', ['access', 'auditor']],
      ['dave', ['access', 'session-lister']],
    ];
    for (const [name, roles] of users) {
      await api.call('POST', '/webapi/admin/users', { name, roles }, admin);
      who[name] = await harness.identity({ username: name, roles, connector: 'local' });
    }
    const now = harness.clock.now().getTime();
    const at = (minutesAgo: number) => new Date(now - minutesAgo * MINUTE);
    sessions.aliceOld = await recordSession(harness.deps.audit, recordings.store, {
      user: 'alice',
      start: at(50),
      command: ['sh'],
      events: [
        [0.5, 'o', 'alice$ '],
        [1.2, 'o', 'ls\r\n'],
      ],
      end: { afterSeconds: 90, exitCode: 0 },
    });
    sessions.bob = await recordSession(harness.deps.audit, recordings.store, {
      user: 'bob',
      start: at(40),
      cluster: 'prod',
      pod: 'db-0',
      command: ['psql'],
      events: [[0.1, 'o', 'secret rows\r\n']],
      end: { afterSeconds: 5, exitCode: 2 },
    });
    // The agent was killed mid-way: no session.end, the recording has what was uploaded.
    sessions.aliceKilled = await recordSession(harness.deps.audit, recordings.store, {
      user: 'alice',
      start: at(30),
      command: ['bash', '-l'],
      kind: 'attach',
      events: [
        [0.2, 'o', 'before the crash\r\n'],
        [0.4, 'r', '100x30'],
      ],
    });
  });
  afterAll(async () => {
    await harness?.close();
    await recordings?.close();
  });

  it('lists only the caller’s own sessions, newest first, when no role rule on session allows more', async () => {
    const { sessions: found } = await list('alice');
    expect(found.map((s) => s.sid)).toEqual([sessions.aliceKilled, sessions.aliceOld]);
    expect(found.every((s) => s.user === 'alice')).toBe(true);
    expect((await list('bob')).sessions.map((s) => s.sid)).toEqual([sessions.bob]);
  });

  it('lists a session whose agent was killed as not ended, and a finished one with its end, duration and exit code', async () => {
    const [killed, old] = (await list('alice')).sessions;
    expect(killed).toMatchObject({ sid: sessions.aliceKilled, type: 'attach', end: 'unknown', command: 'bash -l', pod: 'web-0' });
    expect(killed!.ended).toBeUndefined();
    expect(old).toMatchObject({ type: 'exec', end: 'ended', exit_code: 0, duration_ms: 90_000, cluster: 'dev', namespace: 'default' });
  });

  it('refuses to list another user’s sessions without the rule, naming the rule that would allow it', async () => {
    const refused = await refusal(list('alice', '?user=bob'));
    expect(refused.status).toBe(403);
    expect(refused.message).toContain('{resources: [session], verbs: [list]}');
  });

  it('lists everyone’s sessions with a session list rule, filtered by user and cluster on request', async () => {
    expect((await list('carol')).sessions.map((s) => s.sid)).toEqual([sessions.aliceKilled, sessions.bob, sessions.aliceOld]);
    expect((await list('carol', '?user=bob')).sessions.map((s) => s.sid)).toEqual([sessions.bob]);
    expect((await list('dave', '?cluster=prod')).sessions.map((s) => s.sid)).toEqual([sessions.bob]);
  });

  it('pages with a cursor, each session once', async () => {
    const first = await list('carol', '?limit=2');
    expect(first.sessions).toHaveLength(2);
    expect(first.cursor).toBeDefined();
    const second = await list('carol', `?limit=2&cursor=${encodeURIComponent(first.cursor!)}`);
    expect([...first.sessions, ...second.sessions].map((s) => s.sid)).toEqual([sessions.aliceKilled, sessions.bob, sessions.aliceOld]);
    expect(second.cursor).toBeUndefined();
  });

  it('refuses to list more than 200 sessions a page, each of which costs a query, and says to page on', async () => {
    expect(await refusal(list('carol', '?limit=201'))).toEqual({
      status: 400,
      message: 'limit=201 is more than the 200 sessions a page lists; ask for fewer and page on with the cursor',
    });
    expect(await refusal(list('carol', '?limit=1000000'))).toMatchObject({ status: 400 });
    expect((await list('carol', '?limit=200')).sessions.map((s) => s.sid)).toEqual([sessions.aliceKilled, sessions.bob, sessions.aliceOld]);
  });

  it('refuses a parameter the listing does not take, by name', async () => {
    const refused = await refusal(list('alice', '?type=kube.request'));
    expect(refused).toEqual({
      status: 400,
      message: 'unknown parameter type; the listing takes since, until, user, cluster, limit, cursor',
    });
  });

  it('leaves out sessions before since', async () => {
    const since = new Date(harness.clock.now().getTime() - 45 * MINUTE).toISOString();
    expect((await list('alice', `?since=${since}`)).sessions.map((s) => s.sid)).toEqual([sessions.aliceKilled]);
  });

  it('plays the caller’s own recording, parts joined, even the one whose agent was killed', async () => {
    expect(parseCast(await play('alice', sessions.aliceOld!)).events).toEqual([
      [0.5, 'o', 'alice$ '],
      [1.2, 'o', 'ls\r\n'],
    ]);
    const killed = parseCast(await play('alice', sessions.aliceKilled!));
    expect(killed.header.kubeport?.session_id).toBe(sessions.aliceKilled);
    expect(killed.events).toHaveLength(2);
  });

  it('refuses to play a recording larger than it reads into memory, saying its size and where its parts are', async () => {
    const stored = (await recordings.store.read(sessions.aliceOld!))!.length;
    harness.deps.maxPlaybackBytes = stored - 1;
    try {
      expect(await refusal(play('alice', sessions.aliceOld!))).toEqual({
        status: 413,
        message:
          `session ${sessions.aliceOld}'s recording is ${stored} bytes, more than the ${stored - 1} bytes Kubeport plays back; ` +
          `copy its parts from s3://kubeport-recordings/sessions/${sessions.aliceOld}/ (aws s3 cp --recursive) and join them in order into a .cast file (asciinema plays it)`,
      });
      harness.deps.maxPlaybackBytes = stored;
      expect(parseCast(await play('alice', sessions.aliceOld!)).events).toHaveLength(2);
    } finally {
      delete harness.deps.maxPlaybackBytes;
    }
  });

  it('answers a guessed sid of another user’s session exactly as one that does not exist', async () => {
    const guessed = await refusal(play('alice', sessions.bob!));
    const missing = randomUUID();
    const absent = await refusal(play('alice', missing));
    expect(guessed).toEqual({ status: 404, message: `no recording for session ${sessions.bob}` });
    expect(absent).toEqual({ status: 404, message: `no recording for session ${missing}` });
  });

  it('plays another user’s recording with a session read rule, and says which rule is missing with list alone', async () => {
    expect(parseCast(await play('carol', sessions.bob!)).events).toEqual([[0.1, 'o', 'secret rows\r\n']]);
    const refused = await refusal(play('dave', sessions.bob!));
    expect(refused.status).toBe(403);
    expect(refused.message).toContain('{resources: [session], verbs: [read]}');
  });

  it('says a session without a terminal was not recorded, and lists it as not interactive', async () => {
    const sid = await recordSession(harness.deps.audit, recordings.store, {
      user: 'alice',
      start: new Date(harness.clock.now().getTime() - 20 * MINUTE),
      command: ['cat', '/etc/hostname'],
      noTerminal: true,
      events: [],
      end: { afterSeconds: 1, exitCode: 0 },
    });
    const listed = (await list('alice')).sessions.find((s) => s.sid === sid);
    expect(listed).toMatchObject({ interactive: false, command: 'cat /etc/hostname', end: 'ended', exit_code: 0 });
    expect(await refusal(play('alice', sid))).toEqual({
      status: 404,
      message: `session ${sid} was not recorded: it had no terminal (kubectl exec without -t); its command, exit code and bytes are in the audit log`,
    });
    expect(await refusal(play('bob', sid))).toEqual({ status: 404, message: `no recording for session ${sid}` });
  });

  it.each([
    ['a relative path', '..%2F..%2Fsessions%2Fx'],
    ['a key prefix', 'sessions'],
    ['an encoded slash inside a uuid', `${randomUUID().slice(0, 8)}%2F..`],
    ['a percent-encoded NUL', '%00'],
    ['a uuid with a suffix', `${randomUUID()}.cast`],
  ])('refuses a session id that is %s cleanly, before any store is read', async (_, sid) => {
    const refused = await refusal(play('carol', sid));
    expect(refused.status).toBe(400);
    expect(refused.message).toMatch(/is not a session id/);
  });

  it('refuses callers whose request is not signed by a known user', async () => {
    const stranger = await harness.identity({ username: 'mallory', roles: ['editor'], connector: 'local' });
    const refused = await refusal(api.call('GET', '/webapi/admin/recordings', undefined, stranger));
    expect([401, 403]).toContain(refused.status);
    const unsigned = await refusal(api.call('GET', `/webapi/admin/recordings/${sessions.aliceOld}`));
    expect(unsigned.status).toBe(401);
  });
});
