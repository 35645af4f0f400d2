// npm start -- --demo runs the demo cluster in a process of its own (bin/demo-cluster.ts).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoCluster, startDemoCluster } from '../../bin/demo-cluster.js';
import { repoRoot } from '../support/cli.js';
import { accessFromKubeconfig, getVersion, sendUnmaskedExecFrame } from '../support/raw-exec.js';

// The demo's own view of its requests: as Kubeport's agent sends them, for a cluster admin.
const asAdmin = ['Impersonate-User: alice', 'Impersonate-Group: system:masters'];

/** Whether the process runs; a zombie (exited, not yet reaped by init) counts as gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self')) return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the demo cluster process', () => {
  let dir: string;
  let demo: DemoCluster;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeport-demo-process-'));
    demo = await startDemoCluster(join(dir, 'data'));
  });
  afterAll(async () => {
    await demo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is another process than its parent, and writes a kubeconfig that reaches it', async () => {
    expect(demo.pid).not.toBe(process.pid);
    expect(await getVersion(accessFromKubeconfig(demo.kubeconfig))).toBe(200);
  });

  it('survives an unmasked WebSocket frame on an exec and keeps answering', async () => {
    const access = accessFromKubeconfig(demo.kubeconfig);
    expect(await sendUnmaskedExecFrame(access, asAdmin)).toBe('HTTP/1.1 101 Switching Protocols');
    expect(alive(demo.pid)).toBe(true);
    expect(await getVersion(access)).toBe(200);
  });

  it('stops when closed', async () => {
    const other = await startDemoCluster(join(dir, 'other'));
    await other.close();
    expect(alive(other.pid)).toBe(false);
  });

  it('ends when its parent is killed', async () => {
    const parent = spawn(
      process.execPath,
      [join(repoRoot, 'cli/run-ts.mjs'), join(repoRoot, 'test/support/demo-parent.ts'), join(dir, 'orphan')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    parent.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // The demo inherits the parent's stdout: the pipe closes only once both processes are gone.
    const pipeClosed = new Promise<void>((resolve) => parent.stdout.on('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      parent.stdout.on('data', () => output.includes('\n') && resolve());
      parent.on('exit', (code) => reject(new Error(`the parent exited (${code}) before the demo was ready`)));
    });
    const { pid } = JSON.parse(output) as { pid: number };
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    await pipeClosed;
    expect(alive(pid)).toBe(false);
  });
});
