// An idle `kubectl exec -it` behind a load balancer's idle timeout: through a TCP proxy that
// drops connections quiet for 10 s (a shortened 350 s), the shell stays up for several times that
// and still works, because kubectl's pings every 5 s cross the agent both ways. The same proxy
// does drop an exec whose client sends nothing, so the test is not passing for want of a cut.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, type ClientCredentials, rawUpgrade, startAgentHarness } from '../support/agent-harness.js';
import { type IdleCuttingProxy, startIdleCuttingProxy } from '../support/idle-cutting-proxy.js';
import { openTerminal } from '../support/tmux-terminal.js';

const IDLE_MS = 10_000;
const CAT = '/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=cat&stdin=true&stdout=true';
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('an idle kubectl exec -it behind an idle timeout', () => {
  let h: AgentHarness;
  let proxy: IdleCuttingProxy;
  let dir: string;
  let credentials: ClientCredentials;
  let kubeconfig: string;

  beforeAll(async () => {
    h = await startAgentHarness();
    proxy = await startIdleCuttingProxy({ host: '127.0.0.1', port: h.port }, IDLE_MS);
    dir = mkdtempSync(join(tmpdir(), 'kubeport-idle-exec-'));
    credentials = await h.issue({ username: 'gus', traits: { kubernetes_groups: ['system:masters'] } });
    kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'dev',
            cluster: { server: `https://127.0.0.1:${proxy.port}/k8s/dev`, 'certificate-authority-data': b64(h.hostCa.certPem) },
          },
        ],
        users: [{ name: 'gus', user: { 'client-certificate-data': b64(credentials.certPem), 'client-key-data': b64(credentials.keyPem) } }],
        contexts: [{ name: 'dev', context: { cluster: 'dev', user: 'gus', namespace: 'default' } }],
        'current-context': 'dev',
      }),
    );
  });
  afterAll(async () => {
    await proxy?.close();
    await h?.close();
  });

  /** An exec opened through the proxy by a client that then sends nothing at all: when it closed. */
  const silentExec = () =>
    new Promise<{ upgradedAt: number; closedAt: number }>((resolve, reject) => {
      let upgradedAt = 0;
      const socket = tls.connect(
        {
          host: '127.0.0.1',
          port: proxy.port,
          ca: h.hostCa.certPem,
          servername: 'localhost',
          cert: credentials.certPem,
          key: credentials.keyPem,
        },
        () => socket.write(rawUpgrade(CAT)),
      );
      socket.on('data', (chunk: Buffer) => {
        if (!upgradedAt && chunk.toString('latin1').startsWith('HTTP/1.1 101 ')) upgradedAt = Date.now();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => (upgradedAt ? resolve({ upgradedAt, closedAt: Date.now() }) : reject(new Error('no 101 before close'))));
    });

  it('keeps the shell through 3.5 times the idle timeout, while a client that sends nothing is dropped', async () => {
    const terminal = await openTerminal('kubectl exec -it web-0 -- sh', { ...process.env, KUBECONFIG: kubeconfig, HOME: dir });
    try {
      await terminal.waitForFirstPrompt(/root@web-0:\/#$/m, 20_000);
      await terminal.type('echo one');
      await terminal.keys('Enter');
      await terminal.waitFor(/^one$/m);
      const cutsBefore = proxy.cuts();
      const silent = silentExec();

      await new Promise((resolve) => setTimeout(resolve, 3.5 * IDLE_MS));
      expect(await terminal.screen()).not.toMatch(/\[exit \d+\]/);
      await terminal.type('echo two');
      await terminal.keys('Enter');
      await terminal.waitFor(/^two$/m);
      await terminal.type('exit');
      await terminal.keys('Enter');
      expect(await terminal.waitFor(/\[exit \d+\]/)).toContain('[exit 0]');

      // Not vacuous: without kubectl's pings the same path is cut at the idle timeout.
      const { upgradedAt, closedAt } = await silent;
      expect(closedAt - upgradedAt).toBeGreaterThanOrEqual(IDLE_MS - 500);
      expect(closedAt - upgradedAt).toBeLessThan(2 * IDLE_MS);
      expect(proxy.cuts()).toBeGreaterThan(cutsBefore);
    } finally {
      await terminal.close();
    }
  }, 90_000);
});
