// The stores' folders inside the data directory are where users, roles and invites live: a
// symlink planted there, or a copied data directory others may read, must stop local mode before
// it reads or writes anything.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLocalMode } from '../../lib/app/local-mode.js';
import { systemClock, systemRandom } from '../../lib/adapters/system.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'local-data-dir-'));
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const start = (dataDir: string) =>
  startLocalMode(
    {
      dataDir,
      apiAddr: { host: '127.0.0.1', port: 0 },
      agentAddr: { host: '127.0.0.1', port: 0 },
      clusterName: 'kubeport-local',
      clusters: [],
      clusterLabels: {},
      serverVersion: 'test',
    },
    { clock: systemClock, random: systemRandom, log: () => undefined, progress: () => undefined },
  );

describe('local mode data directory', () => {
  it('refuses a stores folder that is a symlink, and writes nothing where it leads', async () => {
    const dataDir = join(dir, 'data');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(dataDir, { mode: 0o700 });
    mkdirSync(elsewhere, { mode: 0o777 });
    symlinkSync(elsewhere, join(dataDir, 'dynamodb'));
    await expect(start(dataDir)).rejects.toThrow(/dynamodb: it is a symbolic link/);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('refuses a data directory holding stores that others may read (a checkout or a copy), naming the fix', async () => {
    const dataDir = join(dir, 'checked-out');
    mkdirSync(join(dataDir, 'dynamodb'), { recursive: true, mode: 0o755 });
    await expect(start(dataDir)).rejects.toThrow(/checked-out: it can be read or written by other accounts \(mode 0755\).*chmod 700/);
    expect(existsSync(join(dataDir, 'user-ca.key'))).toBe(false);
  });
});
