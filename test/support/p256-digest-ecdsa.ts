// ECDSA P-256 over a digest the caller already computed (KMS's MessageType DIGEST). node:crypto
// only signs messages it hashes itself, so the stand-in does the scalar arithmetic here and leaves
// the point multiplication to OpenSSL: a SEC1 private key without its public point makes OpenSSL
// compute k·G, which is all ECDSA needs from the curve.
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
// SEC1 ECPrivateKey { version 1, privateKey OCTET STRING (32), [0] prime256v1 }, the key spliced in.
const SEC1_PREFIX = Buffer.from('30310201010420', 'hex');
const SEC1_SUFFIX = Buffer.from('a00a06082a8648ce3d030107', 'hex');

const toBigInt = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
const to32Bytes = (value: bigint) => Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
const mod = (value: bigint) => ((value % N) + N) % N;

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % N;
    b = (b * b) % N;
  }
  return result;
}

const inverse = (value: bigint) => modPow(value, N - 2n);

/** The x coordinate of scalar·G, by OpenSSL. */
function baseMultX(scalar: bigint): bigint {
  const key = createPrivateKey({ key: Buffer.concat([SEC1_PREFIX, to32Bytes(scalar), SEC1_SUFFIX]), format: 'der', type: 'sec1' });
  const { x } = createPublicKey(key).export({ format: 'jwk' });
  return toBigInt(Buffer.from(x!, 'base64url'));
}

function privateScalar(key: KeyObject): bigint {
  const { d } = key.export({ format: 'jwk' });
  return toBigInt(Buffer.from(d!, 'base64url'));
}

function derInteger(value: bigint): Buffer {
  const hex = value.toString(16);
  const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  const content = bytes[0]! >= 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes;
  return Buffer.concat([Buffer.of(0x02, content.length), content]);
}

/** (r, s) of a DER ECDSA-Sig-Value, or undefined when it is not exactly one (short-form lengths suffice: at most 72 bytes). */
function parseDerSignature(der: Uint8Array): { r: bigint; s: bigint } | undefined {
  const bytes = Buffer.from(der);
  if (bytes.length < 8 || bytes[0] !== 0x30 || bytes[1] !== bytes.length - 2) return undefined;
  const integers: bigint[] = [];
  let at = 2;
  for (let i = 0; i < 2; i++) {
    const length = bytes[at + 1];
    if (bytes[at] !== 0x02 || length === undefined || length === 0 || length > 33 || at + 2 + length > bytes.length) return undefined;
    // DER only: a positive integer in its shortest form, as KMS and OpenSSL insist.
    const first = bytes[at + 2]!;
    if (first >= 0x80 || (first === 0 && length > 1 && bytes[at + 3]! < 0x80)) return undefined;
    integers.push(toBigInt(bytes.subarray(at + 2, at + 2 + length)));
    at += 2 + length;
  }
  return at === bytes.length ? { r: integers[0]!, s: integers[1]! } : undefined;
}

/** A DER signature of the 32-byte `digest` with `privateKey`. */
export function signDigest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  const d = privateScalar(privateKey);
  const z = toBigInt(digest);
  for (;;) {
    const k = mod(toBigInt(randomBytes(40)));
    if (k === 0n) continue;
    const r = mod(baseMultX(k));
    const s = mod(inverse(k) * (z + r * d));
    if (r === 0n || s === 0n) continue;
    const body = Buffer.concat([derInteger(r), derInteger(s)]);
    return Buffer.concat([Buffer.of(0x30, body.length), body]);
  }
}

/**
 * Whether `signature` is `privateKey`'s over `digest`. The stand-in holds the private key, so
 * u1·G + u2·Q is (u1 + u2·d)·G: one multiplication OpenSSL can do.
 */
export function verifyDigest(privateKey: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  const parsed = parseDerSignature(signature);
  if (!parsed || parsed.r <= 0n || parsed.r >= N || parsed.s <= 0n || parsed.s >= N) return false;
  const w = inverse(parsed.s);
  const scalar = mod(toBigInt(digest) * w + parsed.r * w * privateScalar(privateKey));
  return scalar !== 0n && mod(baseMultX(scalar)) === parsed.r;
}
