// Issues and verifies Kubeport certificates. Keys stay behind the Signer port; the layout of
// every kind lives in certificate-template.ts, the checks of a user's leaf in leaf-certificate.ts.
import type { Identity } from './identity.js';
import type { Clock, Random, Signer } from './ports.js';
import { buildCertificate } from './certificate-template.js';
import { KubeportError } from './errors.js';

export const DEFAULT_CERT_TTL_MS = 12 * 3_600_000;
export const MAX_CERT_TTL_MS = 30 * 3_600_000;
export const MIN_CERT_TTL_MS = 60_000;

export interface CaDeps {
  signer: Signer;
  clock: Clock;
  random: Random;
}

export interface IssuingCa extends CaDeps {
  certPem: string;
}

/** Kubeport's two CAs: `user` signs client certificates, `host` the agent's TLS server certificate. */
export type CaType = 'user' | 'host';

/**
 * The CAs as they stand now. Rotation (lib/services/cert-authorities.ts) changes which key signs
 * and which certificates are trusted while the process runs, so callers ask each time (answers are
 * cached by the implementation) instead of holding a CA.
 */
export interface CertAuthorities {
  /** The CA that signs new certificates of this type now. */
  signing(type: CaType): Promise<IssuingCa>;
  /** PEM of every CA certificate of this type to trust now, the signing one first. */
  trusted(type: CaType): Promise<string[]>;
}

/** CAs that never rotate: tests, and a process that holds its CAs for its whole life. */
export function fixedCertAuthorities(user: IssuingCa, host: IssuingCa): CertAuthorities {
  const byType = { user, host };
  return {
    signing: async (type) => byType[type],
    trusted: async (type) => [byType[type].certPem],
  };
}

/** A self-signed CA certificate for the signer's own key. */
export async function createCaCertificate(deps: CaDeps, commonName: string, validityMs: number): Promise<string> {
  const spki = await deps.signer.publicKeySpki();
  return buildCertificate(deps, spki, { kind: 'ca', commonName }, validityMs);
}

/** The TTL a certificate gets: the asked one, capped by every role's max_session_ttl. */
export function certificateTtl(requestedMs: number | undefined, roleMaxTtlsMs: number[]): number {
  const asked = requestedMs ?? DEFAULT_CERT_TTL_MS;
  const capped = Math.min(asked, MAX_CERT_TTL_MS, ...roleMaxTtlsMs);
  return Math.max(capped, MIN_CERT_TTL_MS);
}

/**
 * Refuses (rather than clamps) a leaf that would live longer than MAX_CERT_TTL_MS: rotation
 * retires a key MAX_CERT_TTL_MS after it stopped signing, so a longer leaf would stop working
 * early. Callers compute the TTL (certificateTtl caps a user's), so a longer one is a bug to see.
 */
function checkLeafTtl(kind: string, ttlMs: number): void {
  if (ttlMs > MAX_CERT_TTL_MS) {
    throw new KubeportError(
      'internal',
      `a ${kind} certificate may live at most ${MAX_CERT_TTL_MS / 3_600_000}h (a rotated-out CA key is retired then), not ${ttlMs / 3_600_000}h`,
    );
  }
}

export async function issueUserCertificate(
  ca: IssuingCa,
  subjectPublicKeySpki: Uint8Array,
  identity: Identity,
  ttlMs: number,
): Promise<string> {
  checkLeafTtl('user', ttlMs);
  return buildCertificate(ca, subjectPublicKeySpki, { kind: 'user', identity }, ttlMs);
}

export async function issueHostCertificate(
  ca: IssuingCa,
  subjectPublicKeySpki: Uint8Array,
  hostNames: { dns: string[]; ips: string[] },
  ttlMs: number,
): Promise<string> {
  checkLeafTtl('host', ttlMs);
  return buildCertificate(ca, subjectPublicKeySpki, { kind: 'host', ...hostNames }, ttlMs);
}
