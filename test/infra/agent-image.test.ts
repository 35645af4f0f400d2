// The agent's image, checked without Docker: the Dockerfile's shape and build context, and the
// bundle its build stage makes (built here with the same esbuild settings, then run once).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { HEALTH_PATH } from '../../agent/health.js';
import { AGENT_SPOOL_DIR } from '../../lib/infra/agent-container-environment.js';
import { AGENT_BUNDLE_FILE, AGENT_ENTRY, buildAgentBundle } from '../../lib/infra/agent-bundle.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dockerfile = readFileSync(join(ROOT, 'agent/Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.startsWith('#'));
const stages = instructions.filter((line) => line.startsWith('FROM '));
const runtime = instructions.slice(instructions.indexOf(stages[1]!));

describe('agent/Dockerfile', () => {
  it('builds in one stage on node:22-alpine and runs only the bundle in another, as node, with a health check', () => {
    expect(stages).toEqual(['FROM --platform=$BUILDPLATFORM node:22-alpine AS build', 'FROM node:22-alpine']);
    expect(instructions).toContain('RUN node cli/run-ts.mjs bin/agent-bundle.ts /out');
    const copies = runtime.filter((line) => line.startsWith('COPY'));
    expect(copies).toEqual(['COPY --from=build /out/ ./']);
    expect(runtime).toContain('USER node');
    expect(runtime.find((line) => line.startsWith('HEALTHCHECK'))).toContain(`path:'${HEALTH_PATH}'`);
    expect(runtime.at(-1)).toBe(`CMD ["node", "--enable-source-maps", "/app/${AGENT_BUNDLE_FILE}"]`);
    // The spool volume is node's, as the task mounts it over a read-only root.
    expect(runtime.find((line) => line.startsWith('VOLUME'))).toBe(`VOLUME ["${AGENT_SPOOL_DIR}"]`);
    expect(dockerfile).toContain(`chown node:node ${AGENT_SPOOL_DIR}`);
    // No package manager left in the runtime image.
    expect(runtime.find((line) => line.startsWith('RUN rm -rf'))).toMatch(/npm .*npx/);
  });

  it('gets a build context of the package files and sources only (.dockerignore), so no node_modules, secrets or cdk.out', () => {
    const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(rules[0]).toBe('*');
    expect(rules.slice(1).sort()).toEqual(
      ['!agent/', '!bin/agent-bundle.ts', '!cli/run-ts.mjs', '!lib/', '!package-lock.json', '!package.json'].sort(),
    );
  });
});

describe('the agent bundle', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'kubeport-agent-bundle-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it.skipIf(!existsSync(join(ROOT, AGENT_ENTRY)))(
    'is one ES module that starts on its own and stops on a missing variable, naming it',
    async () => {
      const bundle = await buildAgentBundle(outDir);
      const size = statSync(bundle).size;
      expect(size).toBeLessThan(5 * 1024 * 1024);
      const run = promisify(execFile)(process.execPath, [bundle], { cwd: outDir, env: { PATH: process.env.PATH }, timeout: 20_000 });
      const failure = (await run.then(
        () => undefined,
        (error: unknown) => error,
      )) as { code?: number; stderr?: string } | undefined;
      expect(failure?.code).toBeGreaterThan(0);
      expect(failure?.stderr).toContain('AWS_REGION');
    },
    60_000,
  );
});
