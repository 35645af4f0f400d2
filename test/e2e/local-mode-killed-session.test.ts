// A session whose agent dies mid-way: npm start is SIGKILLed while kubectl exec -it runs at a
// real terminal. After a restart, tsh recordings ls lists the session as not ended and tsh play
// replays it up to the last part the recorder stored, with the real tsh against the real npm start.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionSummary } from '../../lib/core/session-summary.js';
import { cliPath, node } from '../support/cli.js';
import { type LocalModeProcess, addKubeUser, startLocalModeProcess, userShellEnv } from '../support/local-mode-process.js';
import { openTerminal } from '../support/tmux-terminal.js';

/** The agent stores a recording part at least this often (its default); a kill loses at most the last one. */
const PART_INTERVAL_MS = 5_000;

describe('a session whose agent is SIGKILLed mid-way', { timeout: 120_000 }, () => {
  let dir: string;
  let dataDir: string;
  let local: LocalModeProcess;
  let env: NodeJS.ProcessEnv;

  const tsh = (...args: string[]) => node(cliPath('tsh'), args, { env, cwd: dir });
  const sessions = async (): Promise<SessionSummary[]> => {
    const listed = await tsh('recordings', 'ls', '--format=json', '--since=1h');
    expect(listed.code, listed.stderr).toBe(0);
    return JSON.parse(listed.stdout) as SessionSummary[];
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeport-killed-'));
    dataDir = join(dir, 'data');
    env = userShellEnv(dir);
    local = await startLocalModeProcess({ dataDir, extraArgs: ['--demo'], env });
    await addKubeUser(local, dataDir, env, 'alice');
  });
  afterAll(async () => {
    await local?.stop();
  });

  it('leaves a recording that tsh play still plays after a restart, listed as abnormal/in progress', async () => {
    const log = join(dir, 'typescript');
    const screen = await openTerminal(`script -q -f -c 'kubectl exec -it web-0 -- sh' ${log}`, {
      PATH: process.env.PATH,
      HOME: env.HOME,
      TSH_HOME: env.TSH_HOME,
      KUBECONFIG: env.KUBECONFIG,
      KUBECACHEDIR: env.KUBECACHEDIR,
    });
    try {
      await screen.waitFor(/root@web-0:\/#\s*$/m, 30_000);
      await screen.type('echo before the kill');
      await screen.keys('Enter');
      await screen.waitFor(/^before the kill$/m);
      // Long enough for the part holding that output to be stored.
      await new Promise((resolve) => setTimeout(resolve, PART_INTERVAL_MS + 2_000));
      const addresses = { proxy: local.proxy, agent: local.agent };
      const exited = new Promise((resolve) => local.child.once('exit', resolve));
      local.child.kill('SIGKILL');
      await exited;
      await screen.waitFor(/\[exit \d+\]/);
      local = await startLocalModeProcess({ dataDir, extraArgs: ['--demo'], env, addresses });
    } finally {
      await screen.close();
    }
    const printed = readFileSync(log, 'utf8');

    const listed = await sessions();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ user: 'alice', pod: 'web-0', command: 'sh', end: 'unknown' });
    const ls = await tsh('recordings', 'ls');
    expect(ls.stdout).toMatch(new RegExp(`^${listed[0]!.sid} +exec +alice .* abnormal/in progress$`, 'm'));

    const text = await tsh('play', listed[0]!.sid, '--format=text');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('before the kill');
    expect(printed).toContain(text.stdout);
    const played = await tsh('play', listed[0]!.sid, '--speed=100');
    expect(played.code, played.stderr).toBe(0);
    expect(played.stdout).toBe(text.stdout);
  });
});
