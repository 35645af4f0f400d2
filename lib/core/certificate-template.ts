// The one builder of Kubeport certificates. CA, user and host certificates share the layout
// (serial, backdated notBefore, ECDSA P-256 with SHA-256) and differ only in subject and
// extensions, chosen by kind. The TBS part is assembled with the ASN.1 schema library and signed
// through the Signer port, whose DER ECDSA-Sig-Value (what KMS returns) is already the form X.509
// wants in signatureValue, so no signature conversion happens anywhere.
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1 from '@peculiar/asn1-x509';
import * as x509 from './x509.js';
import { KubeportError } from './errors.js';
import { type Identity, identityExtensionValue, IDENTITY_EXTENSION_OID } from './identity.js';
import type { Clock, Random, Signer } from './ports.js';

/** notBefore lies this far back, so a client whose clock runs a little behind accepts it. */
export const BACKDATE_MS = 60_000;
export const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

export type CertificateKind =
  { kind: 'ca'; commonName: string } | { kind: 'user'; identity: Identity } | { kind: 'host'; dns: string[]; ips: string[] };

export interface SigningCa {
  signer: Signer;
  clock: Clock;
  random: Random;
  /** The issuing CA's certificate; needed for leaf kinds (a CA certificate is self-signed). */
  certPem?: string;
}

/** Issues a certificate of `template.kind` for `subjectSpki`, valid for `validityMs` from now. */
export async function buildCertificate(
  ca: SigningCa,
  subjectSpki: Uint8Array,
  template: CertificateKind,
  validityMs: number,
): Promise<string> {
  const now = ca.clock.now().getTime();
  const subject = subjectName(template);
  const issuer = template.kind === 'ca' ? subject : issuerName(ca.certPem);
  const algorithm = new asn1.AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
  const tbsCertificate = new asn1.TBSCertificate({
    version: asn1.Version.v3,
    serialNumber: serialNumber(ca.random),
    signature: algorithm,
    issuer: AsnConvert.parse(issuer.toArrayBuffer(), asn1.Name),
    validity: new asn1.Validity({ notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + validityMs) }),
    subject: AsnConvert.parse(subject.toArrayBuffer(), asn1.Name),
    subjectPublicKeyInfo: AsnConvert.parse(arrayBuffer(subjectSpki), asn1.SubjectPublicKeyInfo),
    extensions: new asn1.Extensions(
      (await extensions(template, subjectSpki)).map((extension) => AsnConvert.parse(extension.rawData, asn1.Extension)),
    ),
  });
  const signature = await ca.signer.sign(new Uint8Array(AsnConvert.serialize(tbsCertificate)));
  const certificate = new asn1.Certificate({ tbsCertificate, signatureAlgorithm: algorithm, signatureValue: arrayBuffer(signature) });
  return new x509.X509Certificate(AsnConvert.serialize(certificate)).toString('pem');
}

function issuerName(caCertPem: string | undefined): x509.Name {
  if (!caCertPem) throw new KubeportError('internal', 'a leaf certificate needs the issuing CA certificate');
  return new x509.X509Certificate(caCertPem).subjectName;
}

function subjectName(template: CertificateKind): x509.Name {
  switch (template.kind) {
    case 'ca':
      return new x509.Name([{ CN: [template.commonName] }, { O: ['Kubeport'] }]);
    case 'user': {
      // The roles form one multi-valued RDN; Kubernetes reads every O as a group.
      const { username, roles } = template.identity;
      return new x509.Name([{ CN: [username] }, ...(roles.length > 0 ? [{ O: roles }] : [])]);
    }
    case 'host':
      return new x509.Name([{ CN: [template.dns[0] ?? template.ips[0] ?? 'kubeport-agent'] }, { O: ['Kubeport'] }]);
  }
}

async function extensions(template: CertificateKind, subjectSpki: Uint8Array): Promise<x509.Extension[]> {
  if (template.kind === 'ca') {
    return [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(arrayBuffer(subjectSpki), false, globalThis.crypto),
    ];
  }
  const leaf = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
  ];
  if (template.kind === 'user') {
    return [
      ...leaf,
      new x509.ExtendedKeyUsageExtension([CLIENT_AUTH], false),
      new x509.Extension(IDENTITY_EXTENSION_OID, false, identityExtensionValue(template.identity)),
    ];
  }
  return [
    ...leaf,
    new x509.ExtendedKeyUsageExtension([SERVER_AUTH], false),
    new x509.SubjectAlternativeNameExtension([
      ...template.dns.map((value) => ({ type: 'dns' as const, value })),
      ...template.ips.map((value) => ({ type: 'ip' as const, value })),
    ]),
  ];
}

/** 16 random bytes as a positive INTEGER in its shortest form (first byte 0x01..0x7f). */
function serialNumber(random: Random): ArrayBuffer {
  const bytes = random.bytes(16);
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return arrayBuffer(bytes);
}

/** A copy backed by a plain ArrayBuffer of exactly its length, as the ASN.1 and WebCrypto types want. */
function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}
