// kubectl exec and attach, the real kubectl through the real agent to the stand-in, over both
// transports: WebSocket v5 (kubectl's default) and SPDY/3.1 (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=
// false). Each run's upstream requests are read back, so a SPDY run that silently went over
// WebSocket (or the reverse) fails.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerValues } from '../../lib/demo/kube-apiserver.js';
import type { RecordedRequest } from '../../lib/demo/types.js';
import { type AgentHarness, startAgentHarness } from '../support/agent-harness.js';
import { type KubectlUser, kubectlUser } from '../support/agent-kubeconfig.js';
import { podUserRole } from '../support/roles.js';
import { openTerminal } from '../support/tmux-terminal.js';

const TRANSPORTS = [
  { name: 'WebSocket', env: {}, method: 'GET', upgrade: 'websocket' },
  { name: 'SPDY', env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }, method: 'POST', upgrade: 'SPDY/3.1' },
] as const;

describe.each(TRANSPORTS)('kubectl exec and attach over $name through the agent', (transport) => {
  let h: AgentHarness;
  let alice: KubectlUser;
  const kubectl = (args: string[], input?: string) => alice.kubectl(args, { env: transport.env, input });
  /** The exec and attach requests that reached the cluster while `body` ran. */
  const upstreamDuring = async (body: () => Promise<void>): Promise<RecordedRequest[]> => {
    const before = h.kube.requests.length;
    await body();
    return h.kube.requests.slice(before).filter((r) => /\/(exec|attach)\?/.test(r.path));
  };
  const expectTransport = (requests: RecordedRequest[], count: number) => {
    expect(requests).toHaveLength(count);
    for (const request of requests) {
      expect(`${request.method} ${headerValues(request, 'upgrade')} ${request.status}`).toBe(
        `${transport.method} ${transport.upgrade} 101`,
      );
      expect(headerValues(request, 'impersonate-user')).toEqual(['alice']);
    }
  };
  /** A terminal running kubectl as alice over this transport. */
  const terminal = (command: string) =>
    openTerminal(command, {
      PATH: process.env.PATH,
      HOME: alice.home,
      KUBECONFIG: alice.env.KUBECONFIG,
      KUBECACHEDIR: alice.env.KUBECACHEDIR,
      ...transport.env,
    });

  beforeAll(async () => {
    h = await startAgentHarness();
    h.roles.set('pod-user', podUserRole());
    const credentials = await h.issue({ username: 'alice', roles: ['pod-user'] });
    alice = kubectlUser(h, join(mkdtempSync(join(tmpdir(), 'kubeport-exec-')), 'alice'), 'alice', credentials);
  });
  afterAll(() => h?.close());

  it('runs a command, pipes stdin, and propagates a non-zero exit code', async () => {
    const requests = await upstreamDuring(async () => {
      const echo = await kubectl(['exec', 'web-0', '--', 'echo', 'hello', 'from', 'web-0']);
      expect(echo.stderr).toBe('');
      expect(echo.stdout).toBe('hello from web-0\n');
      expect(echo.code).toBe(0);

      const cat = await kubectl(['exec', '-i', 'web-0', '--', 'cat'], 'typed into stdin\nand a second line\n');
      expect(cat.stdout).toBe('typed into stdin\nand a second line\n');
      expect(cat.code, cat.stderr).toBe(0);

      const failing = await kubectl(['exec', 'web-0', '--', 'exit', '3']);
      expect(failing.stderr).toBe('command terminated with exit code 3\n');
      expect(failing.code).toBe(3);
    });
    expectTransport(requests, 3);
  });

  it('streams a large output whole', async () => {
    const size = 8 * 1024 * 1024;
    const requests = await upstreamDuring(async () => {
      const zeros = await kubectl(['exec', 'web-0', '--', 'head', '-c', String(size), '/dev/zero']);
      expect(zeros.code, zeros.stderr).toBe(0);
      expect(zeros.stdout.length).toBe(size);
      expect(/^\0*$/.test(zeros.stdout)).toBe(true);
    });
    expectTransport(requests, 1);
  });

  it('gives kubectl exec -it a shell at a real terminal', async () => {
    const requests = await upstreamDuring(async () => {
      const screen = await terminal('kubectl exec -it web-0 -- sh');
      try {
        await screen.waitForFirstPrompt(/root@web-0:\/#$/m);
        await screen.type('echo $HOSTNAME');
        await screen.keys('Enter');
        await screen.waitFor(/^root@web-0:\/# echo \$HOSTNAME\nweb-0\nroot@web-0:\/#$/m);
        await screen.type('exit 5');
        await screen.keys('Enter');
        const text = await screen.waitFor(/\[exit \d+\]/);
        expect(text).toContain('command terminated with exit code 5\n[exit 5]');
      } finally {
        await screen.close();
      }
    });
    expectTransport(requests, 1);
  });

  it('attaches to the pod console: its output without -it, its shell with -it', async () => {
    const requests = await upstreamDuring(async () => {
      const attached = await kubectl(['attach', 'web-0']);
      expect(attached.stdout).toMatch(/^web-0 log line 1\r?\nweb-0 log line 2\r?\n/);
      expect(attached.code, attached.stderr).toBe(0);

      const screen = await terminal('kubectl attach -it web-0');
      try {
        await screen.waitFor(/If you don't see a command prompt, try pressing enter\./);
        await screen.keys('Enter');
        await screen.waitForFirstPrompt(/root@web-0:\/#$/m);
        await screen.type('hostname');
        await screen.keys('Enter');
        await screen.waitFor(/^root@web-0:\/# hostname\nweb-0\nroot@web-0:\/#$/m);
        await screen.keys('C-d');
        const text = await screen.waitFor(/\[exit \d+\]/);
        expect(text).toContain('[exit 0]');
      } finally {
        await screen.close();
      }
    });
    expectTransport(requests, 2);
  });
});
