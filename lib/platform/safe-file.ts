// Files that hold keys, identities and configuration, written and read so that another local
// account, or a directory that came with a repository checkout, cannot redirect or plant them.
// Every write creates a fresh file exclusively (a symlink planted at its name makes it fail instead
// of being followed) and renames it over the target (replacing a symlink there, not following it).
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { KubeportError } from '../core/errors.js';

const { O_CREAT, O_EXCL, O_WRONLY, O_RDONLY, O_NOFOLLOW } = constants;

export interface WriteOptions {
  /** Permission bits of the file written (not reduced by the umask). */
  mode: number;
  /** The random part of the temporary file's name; tests pass their own to plant files at it. */
  randomSuffix?: () => string;
}

/** Replaces the file at `path` with `content`, atomically: readers see the old or the new file, never a part. */
export function writeFileAtomic(path: string, content: string | Uint8Array, options: WriteOptions): void {
  const suffix = options.randomSuffix?.() ?? randomBytes(12).toString('hex');
  const temp = join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
  writeNewFile(temp, content, options.mode);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Creates `path` with `content`; fails with EEXIST when anything, a symlink included, is there already. */
export function writeNewFile(path: string, content: string | Uint8Array, mode: number): void {
  const fd = openSync(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, mode);
  let written = false;
  try {
    fchmodSync(fd, mode);
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
    fsyncSync(fd);
    written = true;
  } finally {
    closeSync(fd);
    if (!written) rmSync(path, { force: true });
  }
}

/**
 * Reads a file that holds a secret (a CA key, an identity): it must be a plain file, not a
 * symlink, owned by the account running Kubeport and neither readable nor writable by anyone
 * else. Returns undefined when there is no file.
 */
export function readPrivateFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw unsafe(path, 'is a symbolic link; key and identity files must be plain files', `remove ${path}`);
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw unsafe(path, 'is not a plain file', `remove ${path}`);
    checkOwnerAndMode(path, stat);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface PrivateDirectoryOptions {
  /** A symlinked data directory is fine as long as where it leads is ours; the stores' folders inside it are not. */
  followSymlink?: boolean;
  /** Narrow a directory of ours that others may read to 0700; otherwise refuse it. */
  narrow?: boolean;
}

/**
 * Makes `path` a directory only this account can enter: created with mode 0700 when missing,
 * refused when another account owns it, and when others may read it either narrowed to 0700 or
 * (options.narrow false) refused.
 */
export function ensurePrivateDirectory(path: string, options: PrivateDirectoryOptions = {}): void {
  const { followSymlink = true, narrow = true } = options;
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (!followSymlink && lstatSync(path).isSymbolicLink()) {
    throw unsafe(path, 'is a symbolic link', `remove ${path}; Kubeport makes it anew`);
  }
  const stat = statSync(path);
  if (!stat.isDirectory()) throw unsafe(path, 'is not a directory', `remove ${path} or choose another directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw unsafe(
      path,
      `belongs to another account (uid ${stat.uid}, you are uid ${uid})`,
      'choose a directory of your own (--data-dir DIR)',
    );
  }
  if ((stat.mode & 0o077) === 0) return;
  if (narrow) {
    chmodSync(path, 0o700);
    return;
  }
  throw unsafe(
    path,
    `can be read or written by other accounts (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}), which Kubeport never leaves it`,
    `if you made it, run chmod 700 ${path}; if it came with a repository or from someone else, remove the data directory and start again`,
  );
}

function checkOwnerAndMode(path: string, stat: { uid: number; mode: number }): void {
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw unsafe(
      path,
      `belongs to another account (uid ${stat.uid}, you are uid ${uid})`,
      `if you made it, run chown ${uid} ${path}; if it came with a repository or from someone else, remove the directory holding it (it must never be shared or committed) and start again`,
    );
  }
  if ((stat.mode & 0o077) !== 0) {
    throw unsafe(
      path,
      `can be read or written by other accounts (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')})`,
      `if you made it, run chmod 600 ${path}; if it came with a repository or from someone else, remove the directory holding it (it must never be shared or committed) and start again`,
    );
  }
}

function unsafe(path: string, problem: string, fix: string): KubeportError {
  return new KubeportError('invalid_config', `refusing ${path}: it ${problem}; ${fix}`);
}
