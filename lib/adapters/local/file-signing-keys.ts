// Local mode's CA keys: one 0600 file per key in the data directory, the file name its id. The
// first keys are user-ca.key and host-ca.key, so a data directory from before rotation keeps its CAs.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CaType } from '../../core/certificate-authority.js';
import { KubeportError } from '../../core/errors.js';
import type { Random, Signer, SigningKeys } from '../../core/ports.js';
import { FileSigner } from './file-signer.js';

// A key id comes from the CA resource: only a plain file name of ours, never a path elsewhere.
const KEY_ID = /^(user|host)-ca(-[0-9a-f]{16})?\.key$/;

export class FileSigningKeys implements SigningKeys {
  private readonly signers = new Map<string, FileSigner>();
  /** First keys, made on first use (only a CA created from them uses them). */
  private readonly creatable = new Set<string>();

  constructor(
    private readonly dataDir: string,
    private readonly random: Random,
  ) {}

  /** The id of the type's first key; the file is made when the key is first used, if it is not there. */
  initial(type: CaType): string {
    const id = `${type}-ca.key`;
    this.creatable.add(id);
    return id;
  }

  async create(type: CaType): Promise<string> {
    const id = `${type}-ca-${Buffer.from(this.random.bytes(8)).toString('hex')}.key`;
    const { signer } = FileSigner.loadOrCreate(this.path(id));
    this.signers.set(id, signer);
    return id;
  }

  signer(keyId: string): Signer {
    const load = () => this.load(keyId);
    return {
      publicKeySpki: async () => load().publicKeySpki(),
      sign: async (data) => load().sign(data),
    };
  }

  async retire(keyId: string): Promise<void> {
    const path = this.path(keyId);
    this.signers.delete(keyId);
    this.creatable.delete(keyId);
    rmSync(path, { force: true });
  }

  private load(keyId: string): FileSigner {
    const known = this.signers.get(keyId);
    if (known) return known;
    const path = this.path(keyId);
    const signer = this.creatable.has(keyId) ? FileSigner.loadOrCreate(path).signer : FileSigner.load(path);
    if (!signer) {
      throw new KubeportError(
        'invalid_config',
        `the CA key ${keyId} is not in ${this.dataDir}; restore it from a backup of the data directory`,
      );
    }
    this.signers.set(keyId, signer);
    return signer;
  }

  private path(keyId: string): string {
    if (!KEY_ID.test(keyId)) {
      throw new KubeportError(
        'invalid_config',
        `"${keyId}" is not a local CA key name (user-ca.key, host-ca-<hex>.key, ...); the CA resource was changed outside Kubeport`,
      );
    }
    return join(this.dataDir, keyId);
  }
}
