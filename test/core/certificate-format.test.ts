// Pins the certificate format: with a fixed key, clock and randomness, the signed part (TBS) of
// each kind of certificate must stay byte for byte what kubectl has been accepting. The digests
// were taken from the code before it moved onto the ASN.1 schema library.
import { createHash, createPrivateKey, createPublicKey, sign, X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import { createCaCertificate, issueHostCertificate, issueUserCertificate } from '../../lib/core/certificate-authority.js';
import type { Identity } from '../../lib/core/identity.js';
import type { Signer } from '../../lib/core/ports.js';

const CA_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbEYsWOJP51QhGRUA
bOsBLi0takxcgeTT1PcEBr/lTC2hRANCAAR/vBVK+jxUVH1lp/jTJTmxj5hCdWoT
+CJljwahLfCm/2BY2qSRdw0Io+e3WgYFaFA8HETzJldVDqDHxDc6HKB1
-----END PRIVATE KEY-----
`;
const SUBJECT_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgCwTDkvdOEMio9IQh
0xPcTEVDIZmuTcHch61gZSXesDehRANCAASNZNu/rPZNczwRWB4sOiE/BZbQucE3
RlXMOFuzdomv6IRgGgw8cQvtLgN8arUu6rD2M6kCZVPrP2l97Ye7YtPp
-----END PRIVATE KEY-----
`;

const t0 = new Date('2026-11-21T12:00:00Z');
const caKey = createPrivateKey(CA_KEY);
const signer: Signer = {
  publicKeySpki: async () => new Uint8Array(createPublicKey(caKey).export({ type: 'spki', format: 'der' })),
  sign: async (data) => new Uint8Array(sign('sha256', data, { key: caKey, dsaEncoding: 'der' })),
};
/** Counts up from a seed so every run draws the same serial numbers. */
function fixedRandom() {
  let next = 1;
  return { bytes: (n: number) => Uint8Array.from({ length: n }, () => next++ & 0xff) };
}
const subjectSpki = new Uint8Array(createPublicKey(SUBJECT_KEY).export({ type: 'spki', format: 'der' }));
const alice: Identity = {
  username: 'alice',
  roles: ['access', 'editor'],
  traits: { kubernetes_groups: ['devs'], logins: ['alice', 'root'] },
  connector: 'local',
  accessRequests: [],
  issuedAt: t0.toISOString(),
};

function tbsDigest(pem: string): string {
  const der = new X509Certificate(pem).raw;
  const tbs = AsnConvert.serialize(AsnConvert.parse(der, Certificate).tbsCertificate);
  return createHash('sha256').update(new Uint8Array(tbs)).digest('hex');
}

async function issueAll() {
  const random = fixedRandom();
  const clock = { now: () => t0 };
  const caPem = await createCaCertificate({ signer, clock, random }, 'Kubeport user CA (demo)', 10 * 365 * 24 * 3_600_000);
  const ca = { signer, clock, random, certPem: caPem };
  const userPem = await issueUserCertificate(ca, subjectSpki, alice, 3_600_000);
  const hostPem = await issueHostCertificate(ca, subjectSpki, { dns: ['localhost'], ips: ['127.0.0.1'] }, 3_600_000);
  return { caPem, userPem, hostPem };
}

describe('certificate format', () => {
  it('signs the same TBS bytes as before for CA, user and host certificates', async () => {
    const { caPem, userPem, hostPem } = await issueAll();
    expect({ ca: tbsDigest(caPem), user: tbsDigest(userPem), host: tbsDigest(hostPem) }).toEqual(GOLDEN);
  });

  it('gives fields that Node parses as before, with signatures by the CA key', async () => {
    const { caPem, userPem, hostPem } = await issueAll();
    const ca = new X509Certificate(caPem);
    const user = new X509Certificate(userPem);
    const host = new X509Certificate(hostPem);
    expect(ca.subject).toBe('CN=Kubeport user CA (demo)\nO=Kubeport');
    expect(ca.issuer).toBe(ca.subject);
    expect(ca.ca).toBe(true);
    expect(ca.checkIssued(ca)).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);

    // The roles form one multi-valued RDN, as they always have; Kubernetes reads every O.
    expect(user.subject).toBe('CN=alice\nO=access + O=editor');
    expect(user.issuer).toBe(ca.subject);
    expect(user.ca).toBe(false);
    expect(user.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(new Date(user.validFrom).getTime()).toBe(t0.getTime() - 60_000);
    expect(new Date(user.validTo).getTime()).toBe(t0.getTime() + 3_600_000);
    expect(user.verify(ca.publicKey)).toBe(true);
    expect(user.publicKey.export({ type: 'spki', format: 'der' }).equals(Buffer.from(subjectSpki))).toBe(true);
    // The identity extension: OID 1.3.9999.7.1 (DER 06 05 2b ce 0f 07 01) holding a UTF8String of JSON.
    const json =
      '{"roles":["access","editor"],"traits":{"kubernetes_groups":["devs"],"logins":["alice","root"]},"access_requests":[],"connector":"local","issued_at":"2026-11-21T12:00:00.000Z"}';
    const utf8String = Buffer.concat([Buffer.from([0x0c, 0x81, json.length]), Buffer.from(json)]);
    const extension = Buffer.concat([Buffer.from('06052bce0f0701', 'hex'), Buffer.from([0x04, 0x81, utf8String.length]), utf8String]);
    expect(user.raw.includes(extension)).toBe(true);

    expect(host.subject).toBe('CN=localhost\nO=Kubeport');
    expect(host.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(host.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(host.verify(ca.publicKey)).toBe(true);
  });
});

const GOLDEN = {
  ca: '97afe4058364a978e2343498d70c7fda7eaf72daa4eadf268d7c8550186e176e',
  user: '2987ee0376dde334b2620f49242ff9e6422cdf6c9fa8d2c69a01031dd5b61269',
  host: '73f4d15fc39bebafe46ca3b84c9bab7a27d11a9c077f3650ad17f3621277f148',
};
