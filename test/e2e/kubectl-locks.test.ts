// The real kubectl and the real tctl: an admin locks a user while the user's `kubectl exec -i`
// runs; the session ends within 5 s, the user's next command is refused with the lock's message,
// and removing the lock gives access back. The agent learns of the lock only through the store
// the admin API writes to.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientHarness, startClientHarness } from '../client/client-harness.js';
import { type AgentHarness, startAgentHarness } from '../support/agent-harness.js';
import { cliPath, node, run } from '../support/cli.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('kubectl exec cut by tctl lock', () => {
  let api: ClientHarness;
  let agent: AgentHarness;
  let env: NodeJS.ProcessEnv;
  let home: string;
  let session: ChildProcess | undefined;
  const tctl = (...args: string[]) => node(cliPath('tctl'), ['--data-dir', api.dataDir, ...args]);
  const kubectl = (...args: string[]) => run('kubectl', args, { env, cwd: home });

  beforeAll(async () => {
    api = await startClientHarness();
    agent = await startAgentHarness({ locks: { store: api.deps.resources } });
    home = mkdtempSync(join(tmpdir(), 'kubeport-kubectl-locks-'));
    const alice = await agent.issue({ username: 'alice' });
    const kubeconfig = join(home, 'config');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'dev',
            cluster: { server: `https://127.0.0.1:${agent.port}/k8s/dev`, 'certificate-authority-data': b64(agent.hostCa.certPem) },
          },
        ],
        users: [{ name: 'alice', user: { 'client-certificate-data': b64(alice.certPem), 'client-key-data': b64(alice.keyPem) } }],
        contexts: [{ name: 'dev', context: { cluster: 'dev', user: 'alice', namespace: 'default' } }],
        'current-context': 'dev',
      }),
    );
    env = { ...process.env, HOME: home, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(home, 'cache') };
  });
  afterAll(async () => {
    session?.kill('SIGKILL');
    await agent?.close();
    await api?.close();
  });

  it('ends a running kubectl exec -i within 5 s of tctl lock, refuses the next command with the message, and serves again after tctl rm', async () => {
    session = spawn('kubectl', ['exec', '-i', 'web-0', '--', 'cat'], { env, cwd: home, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    session.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    session.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let exitedAt = 0;
    const exited = new Promise<number | null>((resolve) =>
      session!.on('close', (code) => {
        exitedAt = Date.now();
        resolve(code);
      }),
    );
    // cat echoes what kubectl sends: the session is up end to end.
    session.stdin!.write('before the lock\n');
    await expect.poll(() => stdout, { timeout: 15_000 }).toContain('before the lock');

    const tctlStarted = Date.now();
    const locked = await tctl('lock', '--user=alice', '--message=Suspicious activity; call security.');
    expect(locked.code).toBe(0);
    // The lock exists once tctl has printed its name; the session may end before tctl exits.
    const lockedBy = Date.now();
    const name = /"([0-9a-f-]{36})"/.exec(locked.stdout)![1]!;
    const code = await exited;
    console.log(
      `kubectl exec ended ${exitedAt - tctlStarted} ms after tctl lock started (tctl ran ${lockedBy - tctlStarted} ms); exit ${code}; kubectl printed: ${JSON.stringify(stderr.trim())}`,
    );
    expect(exitedAt - lockedBy).toBeLessThan(5_000);
    expect(code).toBe(1);
    // The lock's message, as kubectl prints the Status the agent sends on exec's error channel.
    expect(stderr.trim()).toBe('error: lock targeting User:"alice" is in force: Suspicious activity; call security.');

    const refused = await kubectl('get', 'pods');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'Error from server (Forbidden): lock targeting User:"alice" is in force: Suspicious activity; call security.',
    );
    const again = await kubectl('exec', 'web-0', '--', 'echo', 'hi');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('lock targeting User:"alice" is in force');

    expect((await tctl('rm', `lock/${name}`)).code).toBe(0);
    await expect.poll(async () => (await kubectl('get', 'pods')).code, { timeout: 10_000, interval: 500 }).toBe(0);
  });
});
