// Bridges a Signer port (KMS or a file key; DER signatures) to the WebCrypto shape that
// @peculiar/x509 signs through (raw r||s signatures).
import type { Random, Signer } from './ports.js';

export const SIGNING_KEY = { algorithm: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } } as unknown as CryptoKey;

export function signerCrypto(signer: Signer, random: Random): Crypto {
  const subtle = {
    sign: async (_algorithm: unknown, _key: unknown, data: BufferSource) =>
      derSignatureToRaw(await signer.sign(toBytes(data))).buffer,
  };
  return {
    subtle,
    getRandomValues: <T extends ArrayBufferView | null>(array: T): T => {
      if (array) new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(random.bytes(array.byteLength));
      return array;
    },
  } as unknown as Crypto;
}

function toBytes(data: BufferSource): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } → 64 bytes r||s for P-256. */
export function derSignatureToRaw(der: Uint8Array): Uint8Array {
  let offset = 0;
  const expect = (tag: number) => {
    if (der[offset] !== tag) throw new Error('signature is not a DER ECDSA signature');
    offset += 1;
    let length = der[offset++]!;
    if (length & 0x80) {
      const bytes = length & 0x7f;
      length = 0;
      for (let i = 0; i < bytes; i++) length = (length << 8) | der[offset++]!;
    }
    return length;
  };
  expect(0x30);
  const raw = new Uint8Array(64);
  for (const position of [0, 32]) {
    const length = expect(0x02);
    let integer = der.subarray(offset, offset + length);
    offset += length;
    while (integer.length > 32 && integer[0] === 0) integer = integer.subarray(1);
    if (integer.length > 32) throw new Error('signature integer is longer than the P-256 order');
    raw.set(integer, position + 32 - integer.length);
  }
  return raw;
}
