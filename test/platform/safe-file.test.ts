import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePrivateDirectory, readPrivateFile, writeFileAtomic, writeNewFile } from '../../lib/platform/safe-file.js';

const asRoot = process.getuid?.() === 0;
let dir: string;
let victim: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'safe-file-'));
  victim = join(dir, 'victim');
  writeFileSync(victim, 'precious\n', { mode: 0o644 });
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('does not follow a symlink planted at the name the previous code used for its temp file', () => {
    const target = join(dir, 'config');
    // The old helper wrote through `${path}.${pid}.tmp`, following whatever was there.
    symlinkSync(victim, `${target}.${process.pid}.tmp`);
    writeFileAtomic(target, 'new content\n', { mode: 0o600 });
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(readFileSync(target, 'utf8')).toBe('new content\n');
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  it('fails instead of following a symlink planted at its temp name, even when the name is guessed', () => {
    const target = join(dir, 'config');
    symlinkSync(victim, join(dir, '.config.guessed.tmp'));
    expect(() => writeFileAtomic(target, 'new content\n', { mode: 0o600, randomSuffix: () => 'guessed' })).toThrow(/EEXIST/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('replaces a symlink at the target itself rather than writing through it', () => {
    const target = join(dir, 'identity.json');
    symlinkSync(victim, target);
    writeFileAtomic(target, '{}', { mode: 0o600 });
    expect(lstatSync(target).isSymbolicLink()).toBe(false);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('leaves no temp file behind and keeps the mode whatever the umask', () => {
    const target = join(dir, 'ca.pem');
    writeFileAtomic(target, 'pem', { mode: 0o644 });
    writeFileAtomic(target, 'pem 2', { mode: 0o644 });
    expect(readdirSync(dir).sort()).toEqual(['ca.pem', 'victim']);
    expect(statSync(target).mode & 0o777).toBe(0o644);
  });
});

describe('writeNewFile', () => {
  it('refuses to write through a symlink planted where a key is to be created', () => {
    symlinkSync(victim, join(dir, 'user-ca.key'));
    expect(() => writeNewFile(join(dir, 'user-ca.key'), 'key', 0o600)).toThrow(/EEXIST/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });
});

describe('readPrivateFile', () => {
  it('reads a file of this account with mode 0600, and answers undefined for a missing one', () => {
    writeNewFile(join(dir, 'key'), 'secret', 0o600);
    expect(readPrivateFile(join(dir, 'key'))?.toString()).toBe('secret');
    expect(readPrivateFile(join(dir, 'missing'))).toBeUndefined();
  });

  it('refuses a file readable by others, saying how to fix it', () => {
    writeFileSync(join(dir, 'key'), 'secret', { mode: 0o644 });
    chmodSync(join(dir, 'key'), 0o644);
    expect(() => readPrivateFile(join(dir, 'key'))).toThrow(
      /can be read or written by other accounts \(mode 0644\); if you made it, run chmod 600 .*remove the directory/,
    );
  });

  it('refuses a symlink, wherever it points', () => {
    writeNewFile(join(dir, 'real'), 'secret', 0o600);
    symlinkSync(join(dir, 'real'), join(dir, 'key'));
    expect(() => readPrivateFile(join(dir, 'key'))).toThrow(/is a symbolic link/);
  });

  it.skipIf(!asRoot)(`refuses a file owned by another account${asRoot ? '' : ' (skipped: needs root to chown)'}`, () => {
    writeNewFile(join(dir, 'key'), 'secret', 0o600);
    chownSync(join(dir, 'key'), 65534, 65534);
    expect(() => readPrivateFile(join(dir, 'key'))).toThrow(
      /belongs to another account \(uid 65534, you are uid 0\); if you made it, run chown 0/,
    );
  });
});

describe('ensurePrivateDirectory', () => {
  it('creates a missing directory with mode 0700 and narrows an existing one of ours', () => {
    ensurePrivateDirectory(join(dir, 'new'));
    expect(statSync(join(dir, 'new')).mode & 0o777).toBe(0o700);
    mkdirSync(join(dir, 'open'), { mode: 0o755 });
    ensurePrivateDirectory(join(dir, 'open'));
    expect(statSync(join(dir, 'open')).mode & 0o777).toBe(0o700);
  });

  it.skipIf(!asRoot)(`refuses a directory another account made${asRoot ? '' : ' (skipped: needs root to chown)'}`, () => {
    mkdirSync(join(dir, 'planted'), { mode: 0o777 });
    chownSync(join(dir, 'planted'), 65534, 65534);
    expect(() => ensurePrivateDirectory(join(dir, 'planted'))).toThrow(/belongs to another account/);
  });
});
