// Who is calling: the client certificate, verified by TLS against the user CA(s) only, then held
// to the same leaf rules as a signed API call (lib/core/leaf-certificate.ts): a leaf for client
// authentication, carrying a Kubeport identity, valid by the agent's clock.
import type { TLSSocket } from 'node:tls';
import { KubeportError, unauthenticated } from '../lib/core/errors.js';
import type { CertifiedIdentity } from '../lib/core/identity.js';
import { checkValidityPeriod, leafIdentity, parseCertificate } from '../lib/core/leaf-certificate.js';

// The time-independent verdict per connection; the clock is asked on every request.
const verified = new WeakMap<TLSSocket, CertifiedIdentity | KubeportError>();

/** `now` is the request's arrival by the agent's clock. */
export function authenticate(socket: TLSSocket, now: Date): CertifiedIdentity {
  let result = verified.get(socket);
  if (!result) {
    result = verifyPeer(socket);
    verified.set(socket, result);
  }
  if (result instanceof KubeportError) throw result;
  checkValidityPeriod(result, now);
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
    // The TLS handshake checked the chain against the trusted user CAs; the leaf rules are shared.
    return leafIdentity(parseCertificate(new Uint8Array(peer.raw)));
  } catch (error) {
    if (error instanceof KubeportError) return error;
    return unauthenticated('client certificate is malformed');
  }
}
