import { X509Certificate } from 'node:crypto';

/** SHA-256 of a CA certificate (DER), as `openssl x509 -fingerprint -sha256` prints it. */
export const caFingerprint = (certPem: string) => `SHA256:${new X509Certificate(certPem).fingerprint256}`;
