// Issues and verifies Kubeport certificates. Keys stay behind the Signer port.
import * as x509 from './x509.js';
import type { CertifiedIdentity, Identity } from './identity.js';
import { IDENTITY_EXTENSION_OID, decodeIdentity, encodeIdentity } from './identity.js';
import { KubeportError, unauthenticated } from './errors.js';
import type { Clock, Random, Signer } from './ports.js';
import { SIGNING_KEY, signerCrypto } from './signer-crypto.js';

export const DEFAULT_CERT_TTL_MS = 12 * 3_600_000;
export const MAX_CERT_TTL_MS = 30 * 3_600_000;
export const MIN_CERT_TTL_MS = 60_000;
const BACKDATE_MS = 60_000;
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

export interface CaDeps {
  signer: Signer;
  clock: Clock;
  random: Random;
}

export interface IssuingCa extends CaDeps {
  certPem: string;
}

const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };

function serialNumber(random: Random): string {
  const bytes = random.bytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive INTEGER
  return Buffer.from(bytes).toString('hex');
}

export async function createCaCertificate(deps: CaDeps, commonName: string, validityMs: number): Promise<string> {
  const now = deps.clock.now();
  const spki = await deps.signer.publicKeySpki();
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(deps.random),
      subject: `CN=${escapeDnValue(commonName)}, O=Kubeport`,
      issuer: `CN=${escapeDnValue(commonName)}, O=Kubeport`,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + validityMs),
      publicKey: arrayBacked(spki),
      signingKey: SIGNING_KEY,
      signingAlgorithm: ecdsa,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(arrayBacked(spki), false, webcrypto()),
      ],
    },
    signerCrypto(deps.signer, deps.random),
  );
  return cert.toString('pem');
}

/** The TTL a certificate gets: the asked one, capped by every role's max_session_ttl. */
export function certificateTtl(requestedMs: number | undefined, roleMaxTtlsMs: number[]): number {
  const asked = requestedMs ?? DEFAULT_CERT_TTL_MS;
  const capped = Math.min(asked, MAX_CERT_TTL_MS, ...roleMaxTtlsMs);
  return Math.max(capped, MIN_CERT_TTL_MS);
}

export async function issueUserCertificate(
  ca: IssuingCa,
  subjectPublicKeySpki: Uint8Array,
  identity: Identity,
  ttlMs: number,
): Promise<string> {
  const now = ca.clock.now();
  const issuer = new x509.X509Certificate(ca.certPem);
  const name = new x509.Name([
    { CN: [identity.username] },
    ...(identity.roles.length > 0 ? [{ O: identity.roles }] : []),
  ]);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(ca.random),
      subject: name,
      issuer: issuer.subjectName,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + ttlMs),
      publicKey: arrayBacked(subjectPublicKeySpki),
      signingKey: SIGNING_KEY,
      signingAlgorithm: ecdsa,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([CLIENT_AUTH], false),
        new x509.Extension(IDENTITY_EXTENSION_OID, false, arrayBacked(utf8StringDer(encodeIdentity(identity)))),
      ],
    },
    signerCrypto(ca.signer, ca.random),
  );
  return cert.toString('pem');
}

export async function issueHostCertificate(
  ca: IssuingCa,
  subjectPublicKeySpki: Uint8Array,
  hostNames: { dns: string[]; ips: string[] },
  ttlMs: number,
): Promise<string> {
  const now = ca.clock.now();
  const issuer = new x509.X509Certificate(ca.certPem);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(ca.random),
      subject: `CN=${escapeDnValue(hostNames.dns[0] ?? hostNames.ips[0] ?? 'kubeport-agent')}, O=Kubeport`,
      issuer: issuer.subjectName,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + ttlMs),
      publicKey: arrayBacked(subjectPublicKeySpki),
      signingKey: SIGNING_KEY,
      signingAlgorithm: ecdsa,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([SERVER_AUTH], false),
        new x509.SubjectAlternativeNameExtension([
          ...hostNames.dns.map((value) => ({ type: 'dns' as const, value })),
          ...hostNames.ips.map((value) => ({ type: 'ip' as const, value })),
        ]),
      ],
    },
    signerCrypto(ca.signer, ca.random),
  );
  return cert.toString('pem');
}

/** Reads the identity out of a certificate whose chain has already been checked (by TLS or verifyUserCertificate). */
export function identityFromCertificate(cert: x509.X509Certificate | string | Uint8Array): CertifiedIdentity {
  const parsed = cert instanceof x509.X509Certificate ? cert : new x509.X509Certificate(cert as string);
  const username = parsed.subjectName.getField('CN')[0];
  if (!username) throw unauthenticated('certificate has no common name');
  const extension = parsed.getExtension(IDENTITY_EXTENSION_OID);
  if (!extension) throw unauthenticated('certificate carries no Kubeport identity');
  const identity = decodeIdentity(username, readUtf8StringDer(new Uint8Array(extension.value)));
  return { ...identity, notBefore: parsed.notBefore, notAfter: parsed.notAfter, serialNumber: parsed.serialNumber };
}

/**
 * Full check of a user certificate outside TLS (signed API calls): signed by one of the trusted
 * user CAs, valid now, a leaf with clientAuth usage.
 */
export async function verifyUserCertificate(
  certDer: Uint8Array | string,
  trustedCaPems: string[],
  clock: Clock,
): Promise<CertifiedIdentity> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(typeof certDer === 'string' ? certDer : arrayBacked(certDer));
  } catch {
    throw unauthenticated('certificate is malformed');
  }
  const now = clock.now();
  if (now < cert.notBefore || now > cert.notAfter) {
    throw new KubeportError('expired', `certificate expired at ${cert.notAfter.toISOString()}; run tsh login`);
  }
  let trusted = false;
  for (const caPem of trustedCaPems) {
    const ca = new x509.X509Certificate(caPem);
    if (cert.issuer !== ca.subject) continue;
    if (await cert.verify({ publicKey: ca.publicKey, date: now, signatureOnly: true }, webcrypto())) {
      trusted = true;
      break;
    }
  }
  if (!trusted) throw unauthenticated('certificate is not signed by the Kubeport user CA');
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  if (basic?.ca) throw unauthenticated('a CA certificate cannot be used as a user certificate');
  const usage = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (!usage || !usage.usages.includes(CLIENT_AUTH)) throw unauthenticated('certificate is not for client authentication');
  return identityFromCertificate(cert);
}

function webcrypto(): Crypto {
  return globalThis.crypto;
}

function escapeDnValue(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

function utf8StringDer(text: string): Uint8Array {
  const body = new TextEncoder().encode(text);
  return new Uint8Array([0x0c, ...derLength(body.length), ...body]);
}

function readUtf8StringDer(der: Uint8Array): string {
  if (der[0] !== 0x0c) throw unauthenticated('identity extension is not a UTF8String');
  let offset = 1;
  let length = der[offset++]!;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < bytes; i++) length = (length << 8) | der[offset++]!;
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(der.subarray(offset, offset + length));
}

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** A copy backed by a plain ArrayBuffer, as WebCrypto-typed APIs want. */
function arrayBacked(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}
