// Recording fidelity end to end: npm start, the real kubectl exec -it at a real terminal (tmux)
// over WebSocket and over SPDY, then tsh play. What the terminal received through the agent is
// exactly what tsh play --format=text replays; a resize lands as an "r" event; the .cast is a
// valid asciicast v2 file; and a session whose agent is SIGKILLed mid-way still plays after a restart.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCast } from '../../lib/core/asciicast.js';
import type { SessionSummary } from '../../lib/core/session-summary.js';
import { cliPath, node, tshEnroll } from '../support/cli.js';
import { type LocalModeProcess, startLocalModeProcess } from '../support/local-mode-process.js';
import { openTerminal } from '../support/tmux-terminal.js';

const TRANSPORTS = [
  { name: 'WebSocket', env: {} },
  { name: 'SPDY', env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } },
] as const;
/** The recorder uploads a part at least this often; a kill loses at most the last one. */
const PART_INTERVAL_MS = 5_000;

/** What `script` logged of the program's output: its own first and last lines taken off. */
function typescriptOutput(file: string): string {
  const text = readFileSync(file, 'latin1');
  const start = text.indexOf('\n') + 1;
  const end = text.lastIndexOf('\nScript done on');
  return Buffer.from(text.slice(start, end < 0 ? undefined : end), 'latin1').toString('utf8');
}

describe('session recordings with the real kubectl through npm start', { timeout: 120_000 }, () => {
  let dir: string;
  let dataDir: string;
  let local: LocalModeProcess;
  let env: NodeJS.ProcessEnv;
  let terminals = 0;

  const tsh = (...args: string[]) => node(cliPath('tsh'), args, { env, cwd: dir });
  const sessions = async (): Promise<SessionSummary[]> => {
    const listed = await tsh('recordings', 'ls', '--format=json', '--since=1h');
    expect(listed.code, listed.stderr).toBe(0);
    return JSON.parse(listed.stdout) as SessionSummary[];
  };
  /** The session that appears after `known`, once its events are stored (with session.end when `ended`). */
  const newSession = async (known: string[], ended: boolean): Promise<SessionSummary> => {
    let found: SessionSummary | undefined;
    await expect
      .poll(
        async () => {
          found = (await sessions()).find((s) => !known.includes(s.sid) && (!ended || s.end === 'ended'));
          return found !== undefined;
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe(true);
    return found!;
  };
  /** kubectl exec -it at a 100x30 terminal, its output logged byte for byte by script(1). */
  const execAtTerminal = async (transportEnv: Record<string, string>) => {
    const log = join(dir, `typescript-${terminals++}`);
    const screen = await openTerminal(`script -q -f -c 'kubectl exec -it web-0 -- sh' ${log}`, {
      PATH: process.env.PATH,
      HOME: env.HOME,
      TSH_HOME: env.TSH_HOME,
      KUBECONFIG: env.KUBECONFIG,
      KUBECACHEDIR: env.KUBECACHEDIR,
      ...transportEnv,
    });
    return { screen, output: () => typescriptOutput(log) };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeport-recordings-'));
    dataDir = join(dir, 'data');
    mkdirSync(join(dir, 'home'));
    env = {
      ...process.env,
      HOME: join(dir, 'home'),
      TSH_HOME: join(dir, 'home', '.tsh'),
      KUBECONFIG: join(dir, 'home', '.kube', 'config'),
      KUBECACHEDIR: join(dir, 'cache'),
    };
    local = await startLocalModeProcess({ dataDir, extraArgs: ['--demo'], env });
    const added = await node(cliPath('tctl'), [
      `--data-dir=${dataDir}`,
      'users',
      'add',
      'alice',
      '--roles=access',
      '--kubernetes-groups=system:masters',
    ]);
    const invite = /--invite=(\S+)/.exec(added.stdout)![1]!;
    const login = await tshEnroll(env, local.proxy, 'alice', invite, 'correct horse battery staple');
    expect(login.code, login.stderr).toBe(0);
  });
  afterAll(async () => {
    await local?.stop();
  });

  describe.each(TRANSPORTS)('kubectl exec -it over $name', (transport) => {
    it('replays with tsh play --format=text exactly the bytes the terminal received, records the resize, and downloads a valid .cast', async () => {
      const known = (await sessions()).map((s) => s.sid);
      const { screen, output } = await execAtTerminal(transport.env);
      let resized: string;
      try {
        await screen.waitFor(/root@web-0:\/#\s*$/m);
        await screen.type('echo héllo ✓ wörld; clear; echo after the clear; tput cols');
        await screen.keys('Enter');
        await screen.waitFor(/after the clear\n100\n/);
        await screen.resize(120, 40);
        resized = await screen.size();
        await screen.type('tput cols');
        await screen.keys('Enter');
        await screen.waitFor(/^120$/m);
        await screen.type('exit');
        await screen.keys('Enter');
        await screen.waitFor(/\[exit 0\]/);
      } finally {
        await screen.close();
      }
      const session = await newSession(known, true);
      expect(session).toMatchObject({ type: 'exec', user: 'alice', pod: 'web-0', command: 'sh', end: 'ended' });

      const text = await tsh('play', session.sid, '--format=text');
      expect(text.code, text.stderr).toBe(0);
      expect(Buffer.from(text.stdout)).toEqual(Buffer.from(output()));
      expect(text.stdout).toContain('héllo ✓ wörld');

      const json = await tsh('play', session.sid, '--format=json');
      const events = JSON.parse(json.stdout) as { time: number; type: string; data: string }[];
      expect(events.filter((e) => e.type === 'r').map((e) => e.data)).toContain(resized!);

      const cast = await tsh('play', session.sid, '--format=cast');
      const parsed = parseCast(cast.stdout);
      expect(parsed.torn).toBe(false);
      expect(parsed.header).toMatchObject({ version: 2, width: 100, command: 'sh' });
      expect(Number.isInteger(parsed.header.timestamp)).toBe(true);
      expect(cast.stdout.endsWith('\n')).toBe(true);
      for (const line of cast.stdout.trimEnd().split('\n').slice(1)) expect(JSON.parse(line)).toHaveLength(3);
      const times = parsed.events.map(([t]) => t);
      expect(times).toEqual([...times].sort((a, b) => a - b));
    });
  });

  it('a session whose agent is killed mid-way leaves a recording tsh play plays after a restart', async () => {
    const known = (await sessions()).map((s) => s.sid);
    const { screen, output } = await execAtTerminal({});
    try {
      await screen.waitFor(/root@web-0:\/#\s*$/m);
      await screen.type('echo before the kill');
      await screen.keys('Enter');
      await screen.waitFor(/^before the kill$/m);
      // Long enough for the part holding that output to be uploaded.
      await new Promise((resolve) => setTimeout(resolve, PART_INTERVAL_MS + 2_000));
      const addresses = { proxy: local.proxy, agent: local.agent };
      const killed = new Promise((resolve) => local.child.once('exit', resolve));
      local.child.kill('SIGKILL');
      await killed;
      await screen.waitFor(/\[exit \d+\]/);
      local = await startLocalModeProcess({ dataDir, extraArgs: ['--demo'], env, addresses });
    } finally {
      await screen.close();
    }
    const session = await newSession(known, false);
    expect(session.end).toBe('unknown');
    const text = await tsh('play', session.sid, '--format=text');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('before the kill');
    expect(output().startsWith(text.stdout)).toBe(true);
    const played = await tsh('play', session.sid, '--speed=100');
    expect(played.code, played.stderr).toBe(0);
    expect(played.stdout).toBe(text.stdout);
  });
});
