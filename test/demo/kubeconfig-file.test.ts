// The demo's kubeconfig holds a client key the agent impersonates with: a symlink planted at its
// name must not make Kubeport write that key, readable by others, wherever the link leads.
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiServer, startKubeApiServer } from '../../lib/demo/kube-apiserver.js';

let dir: string;
let server: KubeApiServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'demo-kubeconfig-'));
  server = await startKubeApiServer();
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the demo kubeconfig file', () => {
  it('replaces a symlink planted at its name instead of writing through it, and is readable by its owner alone', async () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n', { mode: 0o644 });
    const path = join(dir, 'demo-kubeconfig.yaml');
    symlinkSync(victim, path);
    await server.writeKubeconfig(path, { contextName: 'demo' });
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(path).isSymbolicLink()).toBe(false);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toContain('client-key-data');
  });
});
