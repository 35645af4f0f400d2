// tsh login as a process whose standard input stays open (scripts, expect and CI runners keep
// it open): it must exit as soon as it has logged in, not wait for the pipe to close.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, codeFor, node, secretFromOtpauth } from '../support/cli.js';
import { type ClientHarness, startClientHarness } from './client-harness.js';

describe('tsh login as a process', () => {
  let harness: ClientHarness;
  beforeAll(async () => {
    harness = await startClientHarness();
  });
  afterAll(() => harness?.close());

  it('exits with 0 after success although standard input is never closed', async () => {
    const invite = await harness.addUser('alice', { roles: ['access'], kubernetesGroups: ['devs'] });
    const home = mkdtempSync(join(tmpdir(), 'kubeport-tsh-'));
    const env = { ...process.env, HOME: home, TSH_HOME: join(home, '.tsh'), KUBECONFIG: join(home, '.kube', 'config') };
    let answered = false;
    const result = await node(cliPath('tsh'), ['login', `--proxy=${harness.proxy}`, '--user=alice', `--invite=${invite}`], {
      env,
      input: 'correct horse battery staple\n',
      // Writes the code but never ends standard input.
      respond: (stderr, stdin) => {
        const secret = secretFromOtpauth(stderr);
        if (secret && !answered && stderr.includes('6-digit code')) {
          answered = true;
          stdin.write(`${codeFor(secret, 0, harness.clock.now())}\n`);
        }
      },
      timeoutMs: 15_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Logged in as:       alice');
  });
});
