// tsh recordings ls and tsh play in this process against the real API, with recordings written
// straight to the stores: the table and JSON, each playback format, --speed and the idle limit
// through the injected sleep, Ctrl-C, and the one-line errors.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as play } from '../../lib/client/commands/play.js';
import { run as recordingsLs } from '../../lib/client/commands/recordings-ls.js';
import { cliCommand } from '../../lib/client/command-hint.js';
import { parseCast } from '../../lib/core/asciicast.js';
import { cliPath, node } from '../support/cli.js';
import { recordSession } from '../support/recorded-sessions.js';
import { startRecordingStore } from '../support/recording-store.js';
import { type ClientHarness, loggedInHome, startClientHarness, tshRun } from './client-harness.js';

const ESC = '\x1b';
const TSH = cliCommand('tsh');

describe('tsh recordings ls and tsh play', () => {
  let harness: ClientHarness;
  let recordings: Awaited<ReturnType<typeof startRecordingStore>>;
  let home: string;
  let finished: string;
  let killed: string;

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a failure');
      },
      (error: Error) => error.message,
    );

  beforeAll(async () => {
    recordings = await startRecordingStore();
    harness = await startClientHarness({ recordings: recordings.store });
    await harness.addUser('alice', { roles: ['access'] });
    await harness.addUser('bob', { roles: ['access'] });
    home = await loggedInHome(harness, 'alice');
    const now = harness.clock.now().getTime();
    finished = await recordSession(harness.deps.audit, recordings.store, {
      user: 'alice',
      start: new Date(now - 120 * 60_000),
      namespace: 'shop',
      pod: 'web-0',
      command: ['sh', '-c', 'top'],
      events: [
        [0.25, 'o', `${ESC}[1mhello${ESC}[0m\r\n`],
        [0.75, 'r', '120x40'],
        [1.25, 'o', 'é ✓ \u0007bytes\r\n'],
        // An hour idle: replayed as 2 s at most.
        [3601.25, 'o', 'back\r\n'],
        [3601.5, 'i', 'exit\r'],
      ],
      end: { afterSeconds: 3602, exitCode: 0 },
    });
    killed = await recordSession(harness.deps.audit, recordings.store, {
      user: 'alice',
      start: new Date(now - 10 * 60_000),
      command: ['bash'],
      kind: 'attach',
      events: [[0.5, 'o', 'cut short\r\n']],
    });
  });
  afterAll(async () => {
    await harness?.close();
    await recordings?.close();
  });

  it('recordings ls prints a table of the sessions, newest first, a killed one as abnormal/in progress', async () => {
    const tsh = tshRun(harness, home);
    await recordingsLs({ format: 'text' }, tsh.deps);
    const lines = tsh.stdout.text().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +Type +User +Cluster +Pod +Command +Started +Duration +End$/);
    expect(lines[2]).toMatch(new RegExp(`^${killed} +attach +alice +dev +default/web-0 +bash +\\S+Z +abnormal/in progress$`));
    expect(lines[3]).toMatch(new RegExp(`^${finished} +exec +alice +dev +shop/web-0 +sh -c top +\\S+Z +1h +exit 0$`));
    expect(lines).toHaveLength(4);
  });

  it('recordings ls --format=json prints the sessions as a JSON array', async () => {
    const tsh = tshRun(harness, home);
    await recordingsLs({ format: 'json' }, tsh.deps);
    const rows = JSON.parse(tsh.stdout.text()) as { sid: string; end: string; exit_code?: number }[];
    expect(rows.map((r) => [r.sid, r.end, r.exit_code])).toEqual([
      [killed, 'unknown', undefined],
      [finished, 'ended', 0],
    ]);
  });

  it('recordings ls --since leaves out older sessions, and names a since it cannot read', async () => {
    const tsh = tshRun(harness, home);
    await recordingsLs({ format: 'json', since: '15m' }, tsh.deps);
    expect((JSON.parse(tsh.stdout.text()) as { sid: string }[]).map((r) => r.sid)).toEqual([killed]);
    expect(await failure(recordingsLs({ format: 'text', since: 'yesterday' }, tshRun(harness, home).deps))).toBe(
      '--since yesterday is neither a duration back from now (30m, 1h, 7d) nor a time (2026-12-02T10:00:00Z)',
    );
  });

  it('play --format=text prints everything the session printed, byte for byte, and nothing else', async () => {
    const tsh = tshRun(harness, home);
    await play({ sessionId: finished, format: 'text' }, tsh.deps);
    expect(Buffer.from(tsh.stdout.text())).toEqual(Buffer.from(`${ESC}[1mhello${ESC}[0m\r\né ✓ \u0007bytes\r\nback\r\n`));
  });

  it('play --format=cast prints the stored asciicast file unchanged', async () => {
    const tsh = tshRun(harness, home);
    await play({ sessionId: finished, format: 'cast' }, tsh.deps);
    expect(tsh.stdout.text()).toBe((await recordings.store.read(finished))!.toString('utf8'));
    const cast = parseCast(tsh.stdout.text());
    expect(cast.header).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(cast.torn).toBe(false);
  });

  it('play --format=json prints the events as {time, type, data} objects', async () => {
    const tsh = tshRun(harness, home);
    await play({ sessionId: finished, format: 'json' }, tsh.deps);
    const events = JSON.parse(tsh.stdout.text()) as { time: number; type: string; data: string }[];
    expect(events.map((e) => [e.time, e.type])).toEqual([
      [0.25, 'o'],
      [0.75, 'r'],
      [1.25, 'o'],
      [3601.25, 'o'],
      [3601.5, 'i'],
    ]);
    expect(events[1]!.data).toBe('120x40');
  });

  it('play writes the output in real time, gaps divided by --speed and long pauses cut to 2 s, resizes and input left out', async () => {
    const waited: number[] = [];
    const written: string[] = [];
    const tsh = tshRun(harness, home, {
      sleep: async (ms) => {
        waited.push(ms);
        written.push(tsh.stdout.text());
      },
    });
    await play({ sessionId: finished, speed: '2' }, tsh.deps);
    // 0.25 s, then 0.5 + 0.5 s across the resize, then an hour cut to 2 s: all halved.
    expect(waited).toEqual([125, 500, 1000]);
    expect(written).toEqual(['', `${ESC}[1mhello${ESC}[0m\r\n`, `${ESC}[1mhello${ESC}[0m\r\né ✓ \u0007bytes\r\n`]);
    expect(tsh.stdout.text()).toBe(`${ESC}[1mhello${ESC}[0m\r\né ✓ \u0007bytes\r\nback\r\n`);
  });

  it('play stops at Ctrl-C without writing more, with one line and the interrupted exit', async () => {
    let sleeps = 0;
    const tsh = tshRun(harness, home, {
      sleep: async () => {
        if (++sleeps === 2) tsh.interrupt();
      },
    });
    const error = await play({ sessionId: finished }, tsh.deps).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.name).toBe('InterruptedError');
    expect(error?.message).toBe('playback stopped');
    expect(tsh.stdout.text()).toBe(`${ESC}[1mhello${ESC}[0m\r\n`);
  });

  it('play plays what a killed session left', async () => {
    const tsh = tshRun(harness, home, { sleep: async () => undefined });
    await play({ sessionId: killed }, tsh.deps);
    expect(tsh.stdout.text()).toBe('cut short\r\n');
  });

  it('play names an unknown session and the command that lists them', async () => {
    const sid = randomUUID();
    expect(await failure(play({ sessionId: sid, format: 'text' }, tshRun(harness, home).deps))).toBe(
      `no recording for session ${sid}; ${TSH} recordings ls lists them`,
    );
    expect(await failure(play({ sessionId: '../../etc', format: 'text' }, tshRun(harness, home).deps))).toBe(
      `"../../etc" is not a session id (a UUID); ${TSH} recordings ls lists them`,
    );
  });

  it('play of another user’s session is refused as unknown, and the user’s own list does not show it', async () => {
    const bobs = await recordSession(harness.deps.audit, recordings.store, {
      user: 'bob',
      start: new Date(harness.clock.now().getTime() - 5 * 60_000),
      events: [[0.1, 'o', 'bob only\r\n']],
      end: { afterSeconds: 1, exitCode: 0 },
    });
    expect(await failure(play({ sessionId: bobs, format: 'text' }, tshRun(harness, home).deps))).toBe(
      `no recording for session ${bobs}; ${TSH} recordings ls lists them`,
    );
    const tsh = tshRun(harness, home);
    await recordingsLs({ format: 'json' }, tsh.deps);
    expect(tsh.stdout.text()).not.toContain(bobs);
  });

  it('recordings ls prints a command carrying escape sequences and a newline on one line, without its control characters', async () => {
    await harness.addUser('mallory', { roles: ['access'] });
    const mallorysHome = await loggedInHome(harness, 'mallory');
    // What kubectl exec sends as ?command=printf&command=%1B]0;owned%07%0Aexit: an OSC title sequence and a line break.
    const sid = await recordSession(harness.deps.audit, recordings.store, {
      user: 'mallory',
      start: new Date(harness.clock.now().getTime() - 60_000),
      command: ['printf', `${ESC}]0;owned\u0007\nfake row`, `${ESC}[2J`],
      events: [[0.1, 'o', 'x\r\n']],
      end: { afterSeconds: 1, exitCode: 0 },
    });
    const tsh = tshRun(harness, mallorysHome);
    await recordingsLs({ format: 'text' }, tsh.deps);
    const text = tsh.stdout.text();
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(
      new RegExp(`^${sid} +exec +mallory +dev +default/web-0 +printf  \\]0;owned  fake row  \\[2J +\\S+Z +1s +exit 0$`),
    );
  });

  it('recordings ls refuses a --limit over 200 before asking the server, saying how to narrow the listing', async () => {
    expect(await failure(recordingsLs({ format: 'text', limit: '201' }, tshRun(harness, home).deps))).toBe(
      '--limit 201 is more than the 200 sessions a listing shows; narrow it with --since and --until',
    );
  });

  it('play and recordings ls say how to log in when there is no login, and check their flags first', async () => {
    const nobody = mkdtempSync(join(tmpdir(), 'kubeport-play-nobody-'));
    expect(await failure(play({ sessionId: finished }, tshRun(harness, nobody).deps))).toBe(
      `not logged in; run: ${TSH} login --proxy=HOST:PORT --user=NAME`,
    );
    expect(await failure(recordingsLs({ format: 'text' }, tshRun(harness, nobody).deps))).toBe(
      `not logged in; run: ${TSH} login --proxy=HOST:PORT --user=NAME`,
    );
    expect(await failure(play({ sessionId: finished, format: 'mp4', speed: '0' }, tshRun(harness, home).deps))).toBe(
      '--format mp4 is not one of pty, cast, json, text; --speed 0 is not a number above 0 (e.g. 2 or 0.5)',
    );
  });

  it('the tsh process lists both commands in its help, says how pauses are cut, and fails in one line without a login', async () => {
    const nobody = mkdtempSync(join(tmpdir(), 'kubeport-play-process-'));
    const env = { PATH: process.env.PATH, HOME: nobody, TSH_HOME: join(nobody, '.tsh') };
    const help = await node(cliPath('tsh'), ['play', '--help'], { env });
    expect(help.stdout).toContain('pty: replay on this terminal in real time; cast: the');
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('pauses over 2s are cut to 2s first');
    const lsHelp = await node(cliPath('tsh'), ['recordings', 'ls', '--help'], { env });
    expect(lsHelp.stdout).toContain('--since <when>');
    const played = await node(cliPath('tsh'), ['play', finished, '--format=text'], { env });
    expect(played.code).toBe(1);
    expect(played.stderr).toMatch(/^tsh: not logged in; run: \S.* login --proxy=HOST:PORT --user=NAME\n$/);
  });
});
