// Claims that bind a signed API call to exactly one request, checked the same way on both sides.
import { createHash } from 'node:crypto';

export const SIGNED_REQUEST_HEADER = 'x-kubeport-signature';

/** Whom a signed call is for: one Kubeport cluster, so a signature cannot be replayed at another. */
export function apiAudience(clusterName: string): string {
  return `kubeport:${clusterName}`;
}
export const SIGNED_REQUEST_LIFETIME_S = 60;
export const SIGNED_REQUEST_LEEWAY_S = 120;

export interface RequestClaims {
  aud: string;
  method: string;
  path: string;
  body_sha256: string;
  iat: number;
  exp: number;
  jti: string;
}

export function bodyDigest(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url');
}

/** Why the claims do not describe this request, or undefined when they do. */
export function claimsMismatch(
  claims: Partial<RequestClaims>,
  request: { audience: string; method: string; path: string; body: string | Uint8Array },
  nowSeconds: number,
): string | undefined {
  if (claims.aud !== request.audience) return `signed for ${String(claims.aud)}, not for ${request.audience}`;
  if (claims.method !== request.method.toUpperCase()) return 'signed for another method';
  if (claims.path !== request.path) return 'signed for another path or query';
  if (claims.body_sha256 !== bodyDigest(request.body)) return 'signed for another body';
  if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') return 'signature has no lifetime';
  if (claims.exp - claims.iat > SIGNED_REQUEST_LIFETIME_S * 5) return 'signature lifetime is too long';
  if (nowSeconds > claims.exp + SIGNED_REQUEST_LEEWAY_S) return "signature has expired; check this computer's clock";
  if (nowSeconds < claims.iat - SIGNED_REQUEST_LEEWAY_S) return "signature is from the future; check this computer's clock";
  if (typeof claims.jti !== 'string' || claims.jti.length < 16) return 'signature has no request id';
  return undefined;
}
