// What a person sees when kubectl runs with an expired tsh login: the real kubectl, the real tsh
// exec plugin as a process, a profile whose certificate ended minutes ago.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKubeconfig } from '../../lib/client/kube-clusters.js';
import { ProfileStore } from '../../lib/client/profile-store.js';
import { cliPath, run } from '../support/cli.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';

describe('kubectl with an expired login', () => {
  let harness: ApiHarness;
  beforeAll(async () => {
    harness = await startApiHarness(new Date(Date.now() - 3 * 60_000 - 60 * 60_000));
  });
  afterAll(() => harness?.close());

  it('tsh tells once per kubectl command that the login expired and what renews it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kubeport-expired-'));
    const identity = await harness.identity({ username: 'alice', roles: ['access'] }, { ttlMs: 60 * 60_000 });
    const config = { home: join(home, '.tsh'), kubeconfig: join(home, '.kube', 'config'), homeOverride: join(home, '.tsh') };
    const profile = {
      proxy: '127.0.0.1:3080',
      user: 'alice',
      cluster: 'kubeport',
      agent: '127.0.0.1:3026',
      roles: ['access'],
      traits: {},
      expires: new Date().toISOString(),
    };
    const keys = { certPem: identity.certPem, keyPem: identity.keyPem, userCaPem: identity.certPem, hostCaPem: identity.certPem };
    new ProfileStore(config.home).save(profile, keys);
    await writeKubeconfig({ config, execPlugin: { command: process.execPath, args: [cliPath('tsh')] } }, profile, keys, [
      { name: 'dev', labels: {} },
    ]);
    const result = await run('kubectl', ['get', 'pods'], {
      cwd: home,
      env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: config.kubeconfig },
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    // kubectl runs the plugin once per retry (six times for get pods); tsh speaks on the first only.
    expect(lines.filter((l) => l.startsWith('tsh:'))).toEqual([
      expect.stringMatching(
        /^tsh: your Kubeport session for alice at 127\.0\.0\.1:3080 expired 3m\d*s? ago; run: \S+ login --proxy=127\.0\.0\.1:3080 --user=alice$/,
      ),
    ]);
    expect(lines[0]).toMatch(/^tsh: /);
    // The rest is kubectl's own: its discovery retries, then its one-line verdict.
    expect(lines.slice(1, -1).every((l) => l.includes('getting credentials: exec: executable'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^Unable to connect to the server: getting credentials: exec: executable \S+ failed with exit code 1$/);
  });
});
