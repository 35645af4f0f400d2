// A data directory that came with a repository checkout (files 0644) or from another account must
// not make local mode sign with, or trust, a CA key someone else knows.
import { chownSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSecretBox } from '../../lib/adapters/local/file-secret-box.js';
import { FileSigner } from '../../lib/adapters/local/file-signer.js';

const asRoot = process.getuid?.() === 0;
const knownKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'key-files-'));
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe('local mode key files', () => {
  it('creates keys with mode 0600 and loads them again', async () => {
    const created = FileSigner.loadOrCreate(join(dataDir, 'user-ca.key'));
    const loaded = FileSigner.loadOrCreate(join(dataDir, 'user-ca.key'));
    expect(created.created).toBe(true);
    expect(loaded.created).toBe(false);
    expect(await loaded.signer.publicKeySpki()).toEqual(await created.signer.publicKeySpki());
  });

  it('refuses a CA key committed to a repository (readable by others)', () => {
    writeFileSync(join(dataDir, 'user-ca.key'), knownKey, { mode: 0o644 });
    expect(() => FileSigner.loadOrCreate(join(dataDir, 'user-ca.key'))).toThrow(
      /user-ca\.key: it can be read or written by other accounts \(mode 0644\); if you made it, run chmod 600/,
    );
  });

  it('refuses a CA key that is a symlink to a key elsewhere', () => {
    writeFileSync(join(dataDir, 'known.key'), knownKey, { mode: 0o600 });
    symlinkSync(join(dataDir, 'known.key'), join(dataDir, 'host-ca.key'));
    expect(() => FileSigner.loadOrCreate(join(dataDir, 'host-ca.key'))).toThrow(/is a symbolic link/);
  });

  it.skipIf(!asRoot)(`refuses a CA key owned by another account${asRoot ? '' : ' (skipped: needs root to chown)'}`, () => {
    writeFileSync(join(dataDir, 'user-ca.key'), knownKey, { mode: 0o600 });
    chownSync(join(dataDir, 'user-ca.key'), 65534, 65534);
    expect(() => FileSigner.loadOrCreate(join(dataDir, 'user-ca.key'))).toThrow(/belongs to another account/);
  });

  it('refuses a secrets key readable by others, and does not replace it', () => {
    writeFileSync(join(dataDir, 'secrets.key'), `${Buffer.alloc(32).toString('base64')}\n`, { mode: 0o640 });
    expect(() => FileSecretBox.loadOrCreate(join(dataDir, 'secrets.key'))).toThrow(/mode 0640.*chmod 600/);
    expect(readFileSync(join(dataDir, 'secrets.key'), 'utf8')).toBe(`${Buffer.alloc(32).toString('base64')}\n`);
  });
});
