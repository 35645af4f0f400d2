// The CDK app as `npx cdk synth` runs it (cdk.json's "app"), given bad context: one message
// naming each key and its fix, no stack trace, nothing synthesized.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { node, repoRoot } from '../support/cli.js';

const outDir = mkdtempSync(join(tmpdir(), 'kubeport-cdk-out-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('the CDK app', () => {
  it('fails with one message naming the missing GitHub keys when only githubAdminTeams is set', async () => {
    const result = await node(`${repoRoot}cli/run-ts.mjs`, [`${repoRoot}bin/app.ts`], {
      env: {
        ...process.env,
        CDK_OUTDIR: outDir,
        CDK_CONTEXT_JSON: JSON.stringify({ githubAdminTeams: 'acme/platform', agentTopology: 'big' }),
      },
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('bad CDK context');
    expect(result.stderr).toMatch(/githubClientId, githubClientSecretName: missing; githubAdminTeams is given/);
    expect(result.stderr).toMatch(/agentTopology: give economy .* or ha/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(outDir, 'manifest.json'))).toBe(false);
  });
});
