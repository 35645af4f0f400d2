// SHA-256 for @smithy/signature-v4 from node:crypto, shared by every SigV4 signer here.
import { createHash, createHmac } from 'node:crypto';

type HashInput = string | ArrayBuffer | ArrayBufferView;

/** SHA-256 (HMAC-SHA-256 when given a key) from node:crypto, in the shape the SigV4 signer takes. */
export class NodeSha256 {
  private hash;

  constructor(private readonly secret?: HashInput) {
    this.hash = this.fresh();
  }

  update(data: HashInput): void {
    this.hash.update(bytes(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
}

function bytes(data: HashInput): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
