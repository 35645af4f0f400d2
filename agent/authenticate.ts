// Who is calling: the client certificate, verified by TLS against the user CA(s) only, then held
// to the same leaf rules as a signed API call (lib/core/leaf-certificate.ts): a leaf for client
// authentication, carrying a Kubeport identity, valid by the agent's clock.
import type { TLSSocket } from 'node:tls';
import { KubeportError, unauthenticated } from '../lib/core/errors.js';
import type { CertifiedIdentity } from '../lib/core/identity.js';
import { checkValidityPeriod, leafIdentity, parseCertificate } from '../lib/core/leaf-certificate.js';

// The time-independent verdict per connection; the clock is asked on every request.
const verified = new WeakMap<TLSSocket, CertifiedIdentity | KubeportError>();

/**
 * The leaf rules' verdict per certificate (its DER bytes), so that a user's next connection
 * does not parse the same certificate again: parsing took about 2.7 ms of the agent's CPU per
 * connection, and kubectl opens one for every watch, exec and port-forward. Only the parse is
 * shared; each connection's chain is still verified by its own TLS handshake before this is read.
 */
const byCertificate = new Map<string, CertifiedIdentity | KubeportError>();
const MAX_CERTIFICATES = 4096;

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
  const peer = socket.getPeerX509Certificate();
  if (!peer) return unauthenticated('no client certificate; run tsh login, then tsh kube login <cluster>');
  if (!socket.authorized) {
    const reason = String(socket.authorizationError ?? 'unknown');
    if (reason === 'CERT_HAS_EXPIRED') return new KubeportError('expired', 'your Kubeport certificate has expired; run tsh login');
    return unauthenticated(`client certificate is not signed by this Kubeport user CA (${reason}); run tsh login`);
  }
  const der = peer.raw;
  const key = der.toString('base64');
  const known = byCertificate.get(key);
  if (known) return known;
  let result: CertifiedIdentity | KubeportError;
  try {
    // The TLS handshake checked the chain against the trusted user CAs; the leaf rules are shared.
    result = leafIdentity(parseCertificate(new Uint8Array(der)));
  } catch (error) {
    if (!(error instanceof KubeportError)) return unauthenticated('client certificate is malformed');
    result = error;
  }
  // Bounded: past the limit the oldest entry goes (a Map iterates in insertion order).
  if (byCertificate.size >= MAX_CERTIFICATES) byCertificate.delete(byCertificate.keys().next().value!);
  byCertificate.set(key, result);
  return result;
}
