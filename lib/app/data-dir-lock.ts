// One Kubeport per data directory: a second `npm start` on the same directory would fight the
// first over the embedded stores' files and die with a LevelDB stack trace. The lock is a file
// holding the owner's pid, created exclusively; one whose process is gone (a crash, kill -9) is
// taken over, and the owner removes it on exit.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { KubeportError } from '../core/errors.js';
import { ensurePrivateDirectory, readPrivateFile, writeNewFile } from '../platform/safe-file.js';

export const LOCK_FILE = 'kubeport.pid';
const TAKEOVER_ATTEMPTS = 3;

export interface DataDirLock {
  /** Removes the lock file if it is still this process's. */
  release(): void;
}

/** Whether a process with this pid runs (EPERM: it does, as another account's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDataDir(dataDir: string, pid = process.pid, alive: (pid: number) => boolean = processAlive): DataDirLock {
  ensurePrivateDirectory(dataDir);
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      writeNewFile(path, `${pid}\n`, 0o600);
      return { release: () => (ownerOf(path) === pid ? rmSync(path, { force: true }) : undefined) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= TAKEOVER_ATTEMPTS) throw error;
    }
    const owner = ownerOf(path);
    if (owner !== undefined && owner !== pid && alive(owner)) {
      throw new KubeportError(
        'conflict',
        `Kubeport is already running with data directory ${dataDir} (pid ${owner}); stop it first (Ctrl-C in its terminal, or kill ${owner})`,
      );
    }
    // Stale (its process is gone) or empty (a crash while writing it): taken over. Two starts
    // racing over one stale lock at the same instant may both get through; the embedded
    // stores' own lock then stops the second, less politely.
    rmSync(path, { force: true });
  }
}

function ownerOf(path: string): number | undefined {
  const pid = Number.parseInt(readPrivateFile(path)?.toString('utf8').trim() ?? '', 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}
