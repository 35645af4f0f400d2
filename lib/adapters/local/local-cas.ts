// Local mode's two CAs: file-held keys, self-signed certificates stored as resources. A stored
// certificate is trusted only if its key is the signer's key (as the AWS verifier checks KMS).
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { type IssuingCa, createCaCertificate } from '../../core/certificate-authority.js';
import type { Clock, Random, ResourceStore } from '../../core/ports.js';
import { FileSigner } from './file-signer.js';

const CA_VALIDITY_MS = 10 * 365 * 24 * 3_600_000;

interface StoredCa {
  cert_pem: string;
}

export async function loadOrCreateCa(
  which: 'user' | 'host',
  deps: { dataDir: string; resources: ResourceStore; clock: Clock; random: Random; clusterName: string },
): Promise<IssuingCa> {
  const { signer } = FileSigner.loadOrCreate(join(deps.dataDir, `${which}-ca.key`));
  const stored = await deps.resources.get<StoredCa>('cert_authority', which);
  const spki = Buffer.from(await signer.publicKeySpki());
  if (stored) {
    const storedKey = new X509Certificate(stored.body.cert_pem).publicKey.export({ type: 'spki', format: 'der' });
    if (Buffer.compare(storedKey, spki) === 0) return { signer, clock: deps.clock, random: deps.random, certPem: stored.body.cert_pem };
  }
  const ca = { signer, clock: deps.clock, random: deps.random };
  const certPem = await createCaCertificate(ca, `Kubeport ${which} CA (${deps.clusterName})`, CA_VALIDITY_MS);
  await deps.resources.put<StoredCa>('cert_authority', which, { cert_pem: certPem }, { expectRevision: stored?.revision ?? null });
  return { ...ca, certPem };
}
