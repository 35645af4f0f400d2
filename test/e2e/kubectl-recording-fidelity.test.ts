// Recording fidelity with the real kubectl 1.32: kubectl exec -it at a real terminal (tmux, its
// output logged byte for byte by script(1)) through the real agent, over WebSocket and over SPDY,
// then tsh play against the real API reading the same audit log and recording store. What the
// terminal received is exactly what tsh play --format=text replays; a resize lands as an "r"
// event; the .cast is a valid asciicast v2 file.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as play } from '../../lib/client/commands/play.js';
import { run as recordingsLs } from '../../lib/client/commands/recordings-ls.js';
import { parseCast } from '../../lib/core/asciicast.js';
import type { SessionSummary } from '../../lib/core/session-summary.js';
import { loggedInHome, tshRun } from '../client/client-harness.js';
import { type AgentHarness, startAgentHarness } from '../support/agent-harness.js';
import { kubectlUser } from '../support/agent-kubeconfig.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';
import { LogWritingSink } from '../support/log-writing-sink.js';
import { startRecordingStore } from '../support/recording-store.js';
import { openTerminal } from '../support/tmux-terminal.js';

const TRANSPORTS = [
  { name: 'WebSocket', env: {} },
  { name: 'SPDY', env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } },
] as const;

/** What script(1) logged of the program's output, its own first and last lines taken off. */
function typescriptOutput(file: string): Buffer {
  const text = readFileSync(file);
  const start = text.indexOf('\n') + 1;
  const end = text.lastIndexOf('\nScript done on');
  return text.subarray(start, end < 0 ? undefined : end);
}

describe.each(TRANSPORTS)('a kubectl exec -it session over $name, replayed by tsh play', { timeout: 60_000 }, (transport) => {
  let recordings: Awaited<ReturnType<typeof startRecordingStore>>;
  let api: ApiHarness;
  let agent: AgentHarness;
  let sink: LogWritingSink;
  let dir: string;
  let aliceHome: string;
  let session: SessionSummary;
  let printed: Buffer;
  let resized: string;

  const tsh = async (command: (deps: ReturnType<typeof tshRun>['deps']) => Promise<void>) => {
    const run = tshRun(api, aliceHome);
    await command(run.deps);
    return run.stdout.text();
  };

  beforeAll(async () => {
    recordings = await startRecordingStore();
    api = await startApiHarness(new Date(), { recordings: recordings.store });
    sink = new LogWritingSink(api.deps.audit);
    agent = await startAgentHarness({ audit: sink, recordings: recordings.store, limits: { recordingPartMs: 500 } });
    await api.deps.resources.put('user', 'alice', {
      kind: 'user',
      version: 'v2',
      metadata: { name: 'alice' },
      spec: { roles: ['access'], traits: {} },
    });
    aliceHome = await loggedInHome(api, 'alice');
    dir = mkdtempSync(join(tmpdir(), 'kubeport-fidelity-'));
    const alice = kubectlUser(agent, join(dir, 'alice'), 'alice', await agent.issue({ username: 'alice', roles: ['access'] }));

    const log = join(dir, 'typescript');
    const screen = await openTerminal(`script -q -f -c 'kubectl exec -it web-0 -- sh' ${log}`, {
      PATH: process.env.PATH,
      HOME: alice.home,
      KUBECONFIG: alice.env.KUBECONFIG,
      KUBECACHEDIR: alice.env.KUBECACHEDIR,
      ...transport.env,
    });
    try {
      await screen.waitFor(/root@web-0:\/#\s*$/m);
      await screen.type('echo héllo ✓ wörld; clear; echo after the clear; tput cols');
      await screen.keys('Enter');
      await screen.waitFor(/after the clear\n\d+\n/);
      await screen.resize(120, 40);
      resized = await screen.size();
      await screen.type('tput cols');
      await screen.keys('Enter');
      await screen.waitFor(new RegExp(`^${resized.split('x')[0]}$`, 'm'));
      await screen.type('exit');
      await screen.keys('Enter');
      await screen.waitFor(/\[exit 0\]/);
    } finally {
      await screen.close();
    }
    printed = typescriptOutput(log);
    await sink.flush();
    // The API's clock stands still unless moved; the agent's runs.
    api.clock.set(new Date());
    session = (await sessionsListed())[0]!;
  });
  afterAll(async () => {
    await agent?.close();
    await sink?.flush();
    expect(sink?.counters().dropped).toBe(0);
    await api?.close();
    await recordings?.close();
  });
  const sessionsListed = async () => JSON.parse(await tsh((deps) => recordingsLs({ format: 'json' }, deps))) as SessionSummary[];

  it('is listed by tsh recordings ls as alice’s exec of sh on web-0, ended with exit 0', () => {
    expect(session).toMatchObject({ type: 'exec', user: 'alice', cluster: 'dev', pod: 'web-0', command: 'sh', end: 'ended', exit_code: 0 });
  });

  it('replays with tsh play --format=text exactly the bytes the terminal received', async () => {
    const text = await tsh((deps) => play({ sessionId: session.sid, format: 'text' }, deps));
    expect(printed.toString('utf8')).toContain('héllo ✓ wörld');
    expect(Buffer.from(text)).toEqual(printed);
  });

  it('records the terminal resize as an "r" event with the new size', async () => {
    const events = JSON.parse(await tsh((deps) => play({ sessionId: session.sid, format: 'json' }, deps))) as {
      type: string;
      data: string;
    }[];
    expect(resized).not.toBe('100x30');
    expect(events.filter((e) => e.type === 'r').map((e) => e.data)).toContain(resized);
  });

  it('downloads with --format=cast a valid asciicast v2 file: a header line, then [time, type, data] lines in time order', async () => {
    const cast = await tsh((deps) => play({ sessionId: session.sid, format: 'cast' }, deps));
    const lines = cast.trimEnd().split('\n');
    expect(cast.endsWith('\n')).toBe(true);
    const header = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(header).toMatchObject({ version: 2, width: expect.any(Number), height: expect.any(Number), timestamp: expect.any(Number) });
    for (const line of lines.slice(1)) {
      const event = JSON.parse(line) as unknown[];
      expect(event).toEqual([expect.any(Number), expect.stringMatching(/^[oirm]$/), expect.any(String)]);
    }
    const parsed = parseCast(cast);
    expect(parsed.torn).toBe(false);
    const times = parsed.events.map(([t]) => t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
