// The agent's limits as kubectl meets them: request headers too large (431), a body too large
// (413) and too many streams at once (429) are each answered with a Status that kubectl prints,
// naming the limit and what to do, instead of a bare status code or a dropped connection.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, type ClientCredentials, startAgentHarness } from '../support/agent-harness.js';
import { run } from '../support/cli.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('kubectl meets the agent limits', () => {
  let h: AgentHarness;
  let dir: string;
  let credentials: ClientCredentials;
  let env: NodeJS.ProcessEnv;
  const kubectl = (...args: string[]) => run('kubectl', args, { env, cwd: dir, timeoutMs: 40_000 });

  beforeAll(async () => {
    h = await startAgentHarness({ limits: { maxStreamsPerUser: 1 }, kube: { streams: { intervalMs: 200, durationMs: Infinity } } });
    dir = mkdtempSync(join(tmpdir(), 'kubeport-limits-'));
    credentials = await h.issue({ username: 'hal', traits: { kubernetes_groups: ['system:masters'] } });
    const kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'dev', cluster: { server: `https://127.0.0.1:${h.port}/k8s/dev`, 'certificate-authority-data': b64(h.hostCa.certPem) } },
        ],
        users: [{ name: 'hal', user: { 'client-certificate-data': b64(credentials.certPem), 'client-key-data': b64(credentials.keyPem) } }],
        contexts: [{ name: 'dev', context: { cluster: 'dev', user: 'hal', namespace: 'default' } }],
        'current-context': 'dev',
      }),
    );
    env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir, KUBECACHEDIR: join(dir, 'cache') };
    // Discovery cached, so each command below goes straight to its own request.
    expect((await kubectl('get', 'pods')).code).toBe(0);
  });
  afterAll(() => h?.close());

  it('answers headers over 16 KiB with a 431 Status that kubectl prints', async () => {
    const result = await kubectl('get', 'pods', '--as=hal', `--as-group=${'g'.repeat(20 * 1024)}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "Error from server (RequestHeaderFieldsTooLarge): the request's headers are larger than the Kubeport agent accepts (16 KiB in all)",
    );
  });

  // Before, the agent closed the connection while kubectl was still sending, and kubectl printed
  // "write: broken pipe" instead of the Status.
  it('answers a body over 3 MiB with a 413 Status that kubectl prints', async () => {
    const big = join(dir, 'big.txt');
    writeFileSync(big, 'x'.repeat(4 * 1024 * 1024));
    const result = await kubectl('create', 'configmap', 'big', `--from-file=big=${big}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: failed to create configmap: the request body is larger than the agent accepts (3145728 bytes); the Kubernetes API server itself refuses bodies over 3 MiB\n',
    );
  });

  it('answers a stream over the per-user cap with a 429 Status that kubectl prints once its retries are spent', async () => {
    const held = h.open(
      'GET /k8s/dev/api/v1/namespaces/default/pods/web-0/log?follow=true HTTP/1.1\r\nHost: localhost\r\n\r\n',
      credentials,
    );
    try {
      await expect.poll(() => held.received(), { timeout: 5_000 }).toMatch(/^HTTP\/1\.1 200 /);
      const result = await kubectl('logs', '-f', 'web-0');
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /Error from server \(TooManyRequests\): too many streams .* of user hal are in progress at once \(at most 1\)/,
      );
    } finally {
      held.socket.destroy();
    }
  }, 60_000);
});
