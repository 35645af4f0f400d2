// Throwaway certificate authority for tests: P-256 keys, certificates valid for a day.
import * as x509 from '../../lib/core/x509.js';

export interface IssueOptions {
  commonName: string;
  /** Subject O values; the Kubernetes apiserver reads them as groups. */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  serverAuth?: boolean;
  /** Defaults to true unless serverAuth is set. */
  clientAuth?: boolean;
  notBefore?: Date;
  notAfter?: Date;
}

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface TestCa extends PemPair {
  commonName: string;
  issue(options: IssueOptions): Promise<PemPair>;
}

// Passed explicitly to every call so the library's process-wide provider is never touched.
const crypto: Crypto = globalThis.crypto;
const keyAlgorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const;

async function newKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify']);
}

async function keyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

// Positive, non-zero serial with no leading zero byte, so strict DER parsers (Go) accept it.
function serialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return Buffer.from(bytes).toString('hex');
}

// Back-dated a little so certificates are valid despite clock skew between processes.
const defaultNotBefore = () => new Date(Date.now() - 5 * 60_000);
const defaultNotAfter = () => new Date(Date.now() + 24 * 3600_000);

export async function createTestCa(commonName = 'test-ca'): Promise<TestCa> {
  const caKeys = await newKeys();
  const caName: x509.JsonName = [{ CN: [commonName] }];
  const caCert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: caName,
      keys: caKeys,
      signingAlgorithm,
      notBefore: defaultNotBefore(),
      notAfter: new Date(Date.now() + 365 * 24 * 3600_000),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  async function issue(options: IssueOptions): Promise<PemPair> {
    const keys = await newKeys();
    const serverAuth = options.serverAuth ?? false;
    const clientAuth = options.clientAuth ?? !serverAuth;
    const usages: string[] = [];
    if (serverAuth) usages.push(x509.ExtendedKeyUsage.serverAuth);
    if (clientAuth) usages.push(x509.ExtendedKeyUsage.clientAuth);

    // One RDN per value keeps multi-group subjects readable by every parser.
    const subject: x509.JsonName = [{ CN: [options.commonName] }];
    for (const org of options.organizations ?? []) subject.push({ O: [org] });

    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
    ];
    if (usages.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(usages, false));
    const altNames = [
      ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, false));

    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serialNumber(),
        subject,
        issuer: caCert.subjectName,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm,
        notBefore: options.notBefore ?? defaultNotBefore(),
        notAfter: options.notAfter ?? defaultNotAfter(),
        extensions,
      },
      crypto,
    );
    return { certPem: cert.toString('pem') + '\n', keyPem: await keyToPem(keys.privateKey) };
  }

  return {
    commonName,
    certPem: caCert.toString('pem') + '\n',
    keyPem: await keyToPem(caKeys.privateKey),
    issue,
  };
}
