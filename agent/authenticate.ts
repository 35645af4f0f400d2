// Who is calling: the client certificate, verified by TLS against the user CA(s) only, must be a
// leaf for client authentication, carry a Kubeport identity, and be valid by the agent's clock.
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { identityFromCertificate } from '../lib/core/certificate-authority.js';
import { KubeportError, unauthenticated } from '../lib/core/errors.js';
import type { CertifiedIdentity } from '../lib/core/identity.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const verified = new WeakMap<TLSSocket, CertifiedIdentity | KubeportError>();

/** `now` is the request's arrival by the agent's clock. */
export function authenticate(socket: TLSSocket, now: Date): CertifiedIdentity {
  let result = verified.get(socket);
  if (!result) {
    result = verifyPeer(socket);
    verified.set(socket, result);
  }
  if (result instanceof KubeportError) throw result;
  if (now > result.notAfter) {
    throw new KubeportError('expired', `your Kubeport certificate expired at ${result.notAfter.toISOString()}; run tsh login`);
  }
  if (now < result.notBefore) throw unauthenticated('your Kubeport certificate is not valid yet; check the clock of this computer');
  return result;
}

function verifyPeer(socket: TLSSocket): CertifiedIdentity | KubeportError {
  const peer = socket.getPeerCertificate();
  if (!peer || !peer.raw) return unauthenticated('no client certificate; run tsh login, then tsh kube login <cluster>');
  if (!socket.authorized) {
    const reason = String(socket.authorizationError ?? 'unknown');
    if (reason === 'CERT_HAS_EXPIRED') return new KubeportError('expired', 'your Kubeport certificate has expired; run tsh login');
    return unauthenticated(`client certificate is not signed by this Kubeport user CA (${reason}); run tsh login`);
  }
  try {
    const cert = new X509Certificate(peer.raw);
    if (cert.ca) return unauthenticated('a CA certificate cannot be used as a client certificate');
    const usages = cert.keyUsage ?? [];
    if (!usages.includes(CLIENT_AUTH)) return unauthenticated('client certificate is not for client authentication');
    return identityFromCertificate(new Uint8Array(peer.raw));
  } catch (error) {
    if (error instanceof KubeportError) return error;
    return unauthenticated('client certificate is malformed');
  }
}
