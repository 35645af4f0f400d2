// The real kubectl and the real tctl: an admin locks a user while the user's `kubectl exec -i` or
// `kubectl port-forward` runs, over either transport; the session ends within 5 s, the user's
// next command is refused with the lock's message, and removing the lock gives access back. The
// agent learns of the lock only through the store the admin API writes to.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientHarness, startClientHarness } from '../client/client-harness.js';
import { type AgentHarness, startAgentHarness } from '../support/agent-harness.js';
import { kubectlUser } from '../support/agent-kubectl.js';
import { cliPath, node } from '../support/cli.js';
import { echoThrough, whenForwarding } from '../support/port-forward.js';

const transports = [
  // WebSocket exec: the agent's Status on channel 3 reaches kubectl, which prints it and exits 1.
  { name: 'WebSocket (kubectl default)', exec: {}, portForward: {}, execSays: true },
  // SPDY exec: the agent cuts the connection without a word on the error stream (yet), and
  // kubectl 1.32 takes a cut SPDY session for the command's end: exit 0, nothing printed.
  {
    name: 'SPDY/3.1',
    exec: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' },
    portForward: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' },
    execSays: false,
  },
] as const;

describe('kubectl sessions cut by tctl lock', () => {
  let api: ClientHarness;
  let agent: AgentHarness;
  let dir: string;
  const children: ChildProcess[] = [];
  const tctl = (...args: string[]) => node(cliPath('tctl'), ['--data-dir', api.dataDir, ...args]);

  beforeAll(async () => {
    api = await startClientHarness();
    agent = await startAgentHarness({ locks: { store: api.deps.resources } });
    dir = mkdtempSync(join(tmpdir(), 'kubeport-kubectl-locks-'));
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await agent?.close();
    await api?.close();
  });

  /** Runs tctl lock for `user`; returns the lock's name and when tctl started and returned. */
  async function lockUser(user: string, message: string) {
    // A stored user of the name, as in a real cluster: tctl lock warns about names nobody has.
    await api.addUser(user, { roles: ['access'] });
    const startedAt = Date.now();
    const locked = await tctl('lock', `--user=${user}`, `--message=${message}`);
    expect(locked).toMatchObject({ code: 0, stderr: '' });
    return { name: /"([0-9a-f-]{36})"/.exec(locked.stdout)![1]!, startedAt, createdBy: Date.now() };
  }

  it.each(transports)(
    'ends a running kubectl exec -i over $name within 5 s of tctl lock (its message where the transport carries one); refuses the next command; tctl rm gives access back',
    async ({ name: transport, exec, execSays }) => {
      const user = `exec-${Object.keys(exec).length === 0 ? 'ws' : 'spdy'}`;
      const alice = await kubectlUser(agent, dir, user, ['access']);
      const session = spawn('kubectl', ['exec', '-i', 'web-0', '-n', 'default', '--', 'cat'], {
        env: { ...alice.env, ...exec },
        cwd: alice.home,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.push(session);
      let stdout = '';
      let stderr = '';
      session.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      session.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      let exitedAt = 0;
      const exited = new Promise<number | null>((resolve) =>
        session.on('close', (code) => {
          exitedAt = Date.now();
          resolve(code);
        }),
      );
      // cat echoes what kubectl sends: the session is up end to end.
      session.stdin!.write('before the lock\n');
      await expect.poll(() => stdout, { timeout: 15_000 }).toContain('before the lock');

      const lock = await lockUser(user, 'Suspicious activity; call security.');
      const code = await exited;
      console.log(
        `exec over ${transport}: ended ${exitedAt - lock.startedAt} ms after tctl lock started (tctl took ${lock.createdBy - lock.startedAt} ms); exit ${code}; kubectl printed ${JSON.stringify(stderr.trim())}`,
      );
      // The lock exists once tctl has printed its name; the session may even end before tctl exits.
      expect(exitedAt - lock.createdBy).toBeLessThan(5_000);
      if (execSays) {
        expect(code).toBe(1);
        // kubectl prints the Status the agent sends on exec's error channel.
        expect(stderr.trim()).toBe(`error: lock targeting User:"${user}" is in force: Suspicious activity; call security.`);
      } else {
        expect(stdout).toBe('before the lock\n');
      }

      const refused = await alice.kubectl('get', 'pods', '-n', 'default');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `Error from server (Forbidden): lock targeting User:"${user}" is in force: Suspicious activity; call security.`,
      );
      expect((await tctl('rm', `lock/${lock.name}`)).code).toBe(0);
      await expect.poll(async () => (await alice.kubectl('get', 'pods', '-n', 'default')).code, { timeout: 10_000, interval: 500 }).toBe(0);
    },
  );

  it.each(transports)(
    'ends a running kubectl port-forward over $name within 5 s of tctl lock',
    async ({ name: transport, portForward }) => {
      const user = `pf-${Object.keys(portForward).length === 0 ? 'ws' : 'spdy'}`;
      const bob = await kubectlUser(agent, dir, user, ['access']);
      const child = bob.spawn(['port-forward', '-n', 'default', 'pod/web-0', ':9000'], portForward);
      children.push(child);
      const forward = await whenForwarding(child, [9000]);
      const before = await echoThrough(forward.local.get(9000)!, 64 * 1024);
      expect(before.receivedSha256).toBe(before.sentSha256);

      const lock = await lockUser(user, 'Maintenance.');
      // kubectl port-forward notices the tunnel's end when it next uses it, as it does for a pod that goes away.
      const code = await Promise.race([
        forward.exited,
        (async () => {
          for (;;) {
            await echoThrough(forward.local.get(9000)!, 1024, 2_000).catch(() => undefined);
            if (child.exitCode !== null) return child.exitCode;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        })(),
      ]);
      const exitedAt = Date.now();
      console.log(
        `port-forward over ${transport}: ended ${exitedAt - lock.startedAt} ms after tctl lock started (tctl took ${lock.createdBy - lock.startedAt} ms); exit ${code}; kubectl printed ${JSON.stringify(forward.stderr().trim())}`,
      );
      expect(exitedAt - lock.createdBy).toBeLessThan(5_000);
      expect((await bob.kubectl('port-forward', '-n', 'default', 'pod/web-0', ':9000')).stderr).toContain(
        `lock targeting User:"${user}" is in force: Maintenance.`,
      );
      expect((await tctl('rm', `lock/${lock.name}`)).code).toBe(0);
    },
  );
});
