// Authenticates a tctl call: a compact JWS (ES256 only) by the key of a user certificate in x5c[0].
import { compactVerify, decodeProtectedHeader, importX509 } from 'jose';
import { verifyLeafCertificate } from '../core/leaf-certificate.js';
import { PemConverter } from '../core/x509.js';
import { KubeportError, unauthenticated } from '../core/errors.js';
import type { CertifiedIdentity } from '../core/identity.js';
import type { Clock, ResourceStore, StateStore } from '../core/ports.js';
import type { User } from '../core/resources.js';
import { checkUserStanding } from '../core/user-standing.js';
import { refuseIfLocked } from './lock-enforcement.js';
import { SIGNED_REQUEST_LEEWAY_S, type RequestClaims, claimsMismatch } from '../core/signed-request.js';

export interface SignedRequest {
  token: string | undefined;
  audience: string;
  method: string;
  path: string;
  body: string;
}

export async function verifySignedRequest(
  request: SignedRequest,
  deps: { trustedUserCaPems: string[]; clock: Clock; state: StateStore; resources: ResourceStore },
): Promise<CertifiedIdentity> {
  if (!request.token)
    throw unauthenticated('this call needs a signed request; run tctl with an admin identity (tsh login as an editor, or --identity)');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(request.token);
  } catch {
    throw unauthenticated('request signature is malformed');
  }
  if (header.alg !== 'ES256') throw unauthenticated('request signature must use ES256');
  const leaf = header.x5c?.[0];
  if (typeof leaf !== 'string') throw unauthenticated('request signature carries no certificate (x5c)');
  const der = Buffer.from(leaf, 'base64');
  const identity = await verifyLeafCertificate(new Uint8Array(der), deps.trustedUserCaPems, deps.clock);
  const pem = PemConverter.encode(new Uint8Array(der), 'CERTIFICATE');
  let claims: Partial<RequestClaims>;
  try {
    const key = await importX509(pem, 'ES256');
    const { payload } = await compactVerify(request.token, key, { algorithms: ['ES256'] });
    claims = JSON.parse(new TextDecoder().decode(payload)) as Partial<RequestClaims>;
  } catch {
    throw unauthenticated('request signature does not verify');
  }
  const nowSeconds = Math.floor(deps.clock.now().getTime() / 1000);
  const mismatch = claimsMismatch(claims, request, nowSeconds);
  if (mismatch) throw unauthenticated(`request signature rejected: ${mismatch}`);
  const fresh = await deps.state.putIfAbsent(`jti#${claims.jti}`, 1, new Date((claims.exp! + SIGNED_REQUEST_LEEWAY_S + 60) * 1000));
  if (!fresh) throw new KubeportError('unauthenticated', 'request signature was already used (replay refused)');
  checkUserStanding(identity, (await deps.resources.get<User>('user', identity.username))?.body);
  // Every signed call (tctl, tsh kube ls): a locked identity must not, e.g., remove its own lock.
  await refuseIfLocked(deps, identity);
  return identity;
}
