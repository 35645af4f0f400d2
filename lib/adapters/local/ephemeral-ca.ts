// Certificate authorities whose key lives only in this process: the demo cluster's CA, and the
// throwaway CAs that tests and the bench mint. Certificates come from lib/core's builders, so
// they have exactly the shape Kubeport's own CAs give them.
import { generateKeyPairSync } from 'node:crypto';
import { type IssuingCa, createCaCertificate } from '../../core/certificate-authority.js';
import type { Clock, Random } from '../../core/ports.js';
import { systemClock, systemRandom } from '../system.js';
import { FileSigner } from './file-signer.js';

const YEAR_MS = 365 * 24 * 3_600_000;

/** A fresh P-256 key for a leaf certificate: the public half as DER SPKI, the private as PKCS#8 PEM. */
export interface LeafKey {
  spki: Uint8Array;
  keyPem: string;
}

export function newLeafKey(): LeafKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export interface EphemeralCaOptions {
  /** Default: the system clock. Tests pass the clock they move. */
  clock?: Clock;
  random?: Random;
  /** How long the CA certificate is valid; default a year. */
  validityMs?: number;
}

export async function createEphemeralCa(commonName: string, options: EphemeralCaOptions = {}): Promise<IssuingCa> {
  const deps = { signer: FileSigner.generate(), clock: options.clock ?? systemClock, random: options.random ?? systemRandom };
  return { ...deps, certPem: await createCaCertificate(deps, commonName, options.validityMs ?? YEAR_MS) };
}
