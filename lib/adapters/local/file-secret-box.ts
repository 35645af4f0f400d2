// AES-256-GCM with a key held in a file (mode 0600): local mode's stand-in for KMS Encrypt.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretBox } from '../../core/ports.js';
import { readPrivateFile, writeNewFile } from '../../platform/safe-file.js';

export class FileSecretBox implements SecretBox {
  private constructor(private readonly key: Buffer) {}

  static loadOrCreate(path: string): FileSecretBox {
    const existing = readPrivateFile(path);
    if (existing) return new FileSecretBox(Buffer.from(existing.toString('utf8').trim(), 'base64'));
    const key = randomBytes(32);
    writeNewFile(path, `${key.toString('base64')}\n`, 0o600);
    return new FileSecretBox(key);
  }

  static ephemeral(): FileSecretBox {
    return new FileSecretBox(randomBytes(32));
  }

  async seal(plaintext: string): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `v1.${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  }

  async open(sealed: string): Promise<string> {
    const [version, iv, body, tag] = sealed.split('.');
    if (version !== 'v1' || !iv || !body || !tag) throw new Error('sealed secret has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}
