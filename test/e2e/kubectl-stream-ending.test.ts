// What kubectl shows when the agent ends its stream because the certificate expired: exec over
// either transport prints the message and exits non-zero (WebSocket: a channel-3 Status then
// Close 1000; SPDY: the Status on the error stream, then GOAWAY), and get -w prints it too.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, startAgentHarness } from '../support/agent-harness.js';
import { kubectlUser } from '../support/agent-kubeconfig.js';
import { startKubectl } from '../support/kubectl-process.js';

const EXPIRED = 'your Kubeport certificate expired, which ended this session; run tsh login, then run the command again';

describe('kubectl streams ended by the agent', () => {
  let h: AgentHarness;
  let dir: string;
  let users = 0;
  beforeAll(async () => {
    h = await startAgentHarness({ kube: { streams: { intervalMs: 100, durationMs: Infinity } } });
    dir = mkdtempSync(join(tmpdir(), 'kubeport-stream-ending-'));
  });
  afterAll(() => h?.close());

  /** kubectl `args` as a user whose certificate lasts a minute; the certificate expires once `ready` holds. */
  const expireWhile = async (args: string[], env: NodeJS.ProcessEnv, ready: (stdout: string) => boolean, input?: string) => {
    const name = `user${users++}`;
    const credentials = await h.issue({ username: name, traits: { kubernetes_groups: ['system:masters'] } }, { ttlMs: 60_000 });
    const user = kubectlUser(h, join(dir, name), name, credentials);
    const running = startKubectl(args, { ...user.env, ...env }, user.home);
    if (input) running.child.stdin!.write(input);
    try {
      await expect.poll(() => ready(running.stdout()) || running.stderr(), { timeout: 20_000 }).toBe(true);
      h.clock.advance(2 * 60_000);
      const code = await running.exited;
      return { code, stdout: running.stdout(), stderr: running.stderr() };
    } finally {
      h.clock.advance(-2 * 60_000);
      running.child.kill();
    }
  };

  it.each([
    ['WebSocket', {}],
    ['SPDY', { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }],
  ])('exec over %s prints why and exits non-zero', async (_transport, env) => {
    const result = await expireWhile(['exec', '-i', 'web-0', '--', 'cat'], env, (out) => out.includes('typed'), 'typed\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: ${EXPIRED}\n`);
  });

  it('get -w prints why', async () => {
    const result = await expireWhile(['get', 'pods', '-w'], {}, (out) => out.split('\n').length > 4);
    expect(result.stdout + result.stderr).toContain(EXPIRED);
  });
});
