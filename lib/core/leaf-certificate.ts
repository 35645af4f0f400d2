// The one check of a user's leaf certificate, for the agent (client certificate of a TLS
// connection) and the services (x5c of a signed call). It is a leaf with clientAuth usage,
// carries a Kubeport identity, chains to a trusted user CA, and is valid by the injected clock.
// The rules come in parts because the agent gets the chain checked by the TLS handshake and
// caches the time-independent result per connection, while the clock is asked on every request.
import * as x509 from './x509.js';
import { KubeportError, unauthenticated } from './errors.js';
import { type CertifiedIdentity, identityFromExtensionValue, IDENTITY_EXTENSION_OID } from './identity.js';
import type { Clock } from './ports.js';
import { CLIENT_AUTH } from './certificate-template.js';

export function parseCertificate(input: string | Uint8Array): x509.X509Certificate {
  try {
    return new x509.X509Certificate(typeof input === 'string' ? input : new Uint8Array(input));
  } catch {
    throw unauthenticated('client certificate is malformed');
  }
}

/** Time-independent rules: a leaf for client authentication that carries a Kubeport identity. */
export function leafIdentity(cert: x509.X509Certificate): CertifiedIdentity {
  if (cert.getExtension(x509.BasicConstraintsExtension)?.ca) {
    throw unauthenticated('a CA certificate cannot be used as a client certificate');
  }
  const usage = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (!usage?.usages.includes(CLIENT_AUTH)) throw unauthenticated('client certificate is not for client authentication');
  return identityFromCertificate(cert);
}

/** Time rule, by the caller's clock (not the host's), so tests and skewed hosts agree. */
export function checkValidityPeriod(cert: { notBefore: Date; notAfter: Date }, now: Date): void {
  if (now > cert.notAfter) {
    throw new KubeportError('expired', `your Kubeport certificate expired at ${cert.notAfter.toISOString()}; run tsh login`);
  }
  if (now < cert.notBefore) throw unauthenticated('your Kubeport certificate is not valid yet; check the clock of this computer');
}

/** Chain rule outside TLS: signed by one of the trusted user CAs. */
export async function chainsToTrustedCa(cert: x509.X509Certificate, trustedCaPems: string[], now: Date): Promise<boolean> {
  for (const caPem of trustedCaPems) {
    const ca = new x509.X509Certificate(caPem);
    if (cert.issuer !== ca.subject) continue;
    if (await cert.verify({ publicKey: ca.publicKey, date: now, signatureOnly: true }, globalThis.crypto)) return true;
  }
  return false;
}

/** The whole check, for a certificate that did not come through the agent's TLS handshake. */
export async function verifyLeafCertificate(input: string | Uint8Array, trustedCaPems: string[], clock: Clock): Promise<CertifiedIdentity> {
  const cert = parseCertificate(input);
  const now = clock.now();
  if (!(await chainsToTrustedCa(cert, trustedCaPems, now))) {
    throw unauthenticated('certificate is not signed by the Kubeport user CA; run tsh login');
  }
  const identity = leafIdentity(cert);
  checkValidityPeriod(identity, now);
  return identity;
}

/** Reads the identity out of a certificate; the other rules are the callers' (see above). */
export function identityFromCertificate(cert: x509.X509Certificate | string | Uint8Array): CertifiedIdentity {
  const parsed = cert instanceof x509.X509Certificate ? cert : parseCertificate(cert);
  const username = parsed.subjectName.getField('CN')[0];
  if (!username) throw unauthenticated('certificate has no common name');
  const extension = parsed.getExtension(IDENTITY_EXTENSION_OID);
  if (!extension) throw unauthenticated('certificate carries no Kubeport identity');
  const identity = identityFromExtensionValue(username, extension.value);
  return { ...identity, notBefore: parsed.notBefore, notAfter: parsed.notAfter, serialNumber: parsed.serialNumber };
}
