// A GitHub connector through tctl, as an admin handles it: create from YAML, get in every format
// without the client secret, and a get -> edit -> create --force round trip that keeps the secret.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as create } from '../../lib/client/commands/tctl-create.js';
import { run as get } from '../../lib/client/commands/tctl-get.js';
import { type ClientHarness, startClientHarness, tctlRun } from './client-harness.js';

const SECRET = 'gh-oauth-secret-that-must-never-print-4711';

describe('tctl and the github kind', () => {
  let harness: ClientHarness;
  let dir: string;
  const out = async (command: (deps: ReturnType<typeof tctlRun>['deps']) => Promise<void>) => {
    const run = tctlRun(harness);
    await command(run.deps);
    return run.stdout.text() + run.stderr.text();
  };

  beforeAll(async () => {
    harness = await startClientHarness();
    dir = mkdtempSync(join(tmpdir(), 'kubeport-github-'));
    const file = join(dir, 'github.yaml');
    writeFileSync(
      file,
      [
        'kind: github',
        'version: v3',
        'metadata:',
        '  name: github',
        'spec:',
        '  client_id: Iv1.0123456789',
        `  client_secret: ${SECRET}`,
        '  display: GitHub',
        '  redirect_url: https://kubeport.example.com/webapi/github/callback',
        '  teams_to_roles:',
        '    - organization: acme',
        '      team: platform',
        '      roles: [access]',
        '',
      ].join('\n'),
    );
    await create({ file, force: false }, tctlRun(harness).deps);
  });
  afterAll(() => harness?.close());

  it('never prints the client secret, in any format, listed or named; the store holds it sealed', async () => {
    for (const resource of ['github', 'github/github', 'connectors']) {
      for (const format of ['yaml', 'json', 'text'] as const) {
        const text = await out((deps) => get({ resource, format }, deps));
        expect(text).toContain('github');
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain('client_secret');
      }
    }
    const stored = await harness.deps.resources.get<{ spec: { client_secret_sealed: string } }>('github', 'github');
    expect(JSON.stringify(stored)).not.toContain(SECRET);
    expect(await harness.deps.secrets.open(stored!.body.spec.client_secret_sealed)).toBe(SECRET);
  });

  it('tctl get, edit, tctl create --force keeps the stored secret', async () => {
    const yaml = await out((deps) => get({ resource: 'github/github', format: 'yaml' }, deps));
    const file = join(dir, 'edited.yaml');
    writeFileSync(file, yaml.replace('display: GitHub', 'display: GitHub (acme)'));
    await create({ file, force: true }, tctlRun(harness).deps);
    const stored = await harness.deps.resources.get<{ spec: { display: string; client_secret_sealed: string } }>('github', 'github');
    expect(stored!.body.spec.display).toBe('GitHub (acme)');
    expect(await harness.deps.secrets.open(stored!.body.spec.client_secret_sealed)).toBe(SECRET);
  });
});
