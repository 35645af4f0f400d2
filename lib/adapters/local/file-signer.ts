// A CA key held in a file (mode 0600): local mode's stand-in for a KMS key.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { Signer } from '../../core/ports.js';
import { readPrivateFile, writeNewFile } from '../../platform/safe-file.js';

export class FileSigner implements Signer {
  private readonly spki: Uint8Array;

  private constructor(private readonly key: KeyObject) {
    this.spki = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  }

  /** Loads the key at `path`, creating it on first use; refuses a key file others could have planted or read. */
  static loadOrCreate(path: string): { signer: FileSigner; created: boolean } {
    const existing = readPrivateFile(path);
    if (existing) return { signer: new FileSigner(createPrivateKey(existing)), created: false };
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeNewFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
    return { signer: new FileSigner(privateKey), created: true };
  }

  /** The key at `path`, or undefined when there is none; refused as loadOrCreate refuses it. */
  static load(path: string): FileSigner | undefined {
    const existing = readPrivateFile(path);
    return existing ? new FileSigner(createPrivateKey(existing)) : undefined;
  }

  static generate(): FileSigner {
    return new FileSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  }

  async publicKeySpki(): Promise<Uint8Array> {
    return this.spki;
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(sign('sha256', data, { key: this.key, dsaEncoding: 'der' }));
  }
}
