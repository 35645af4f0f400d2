// The one leaf check, seen from both of its users: the services' full check of an x5c
// certificate, and the agent's parts (chain by TLS, leaf rules cached, clock per request).
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCaCertificate, issueHostCertificate, issueUserCertificate } from '../../lib/core/certificate-authority.js';
import { CLIENT_AUTH } from '../../lib/core/certificate-template.js';
import { IDENTITY_EXTENSION_OID, type Identity } from '../../lib/core/identity.js';
import type { Signer } from '../../lib/core/ports.js';
import { checkValidityPeriod, leafIdentity, parseCertificate, verifyLeafCertificate } from '../../lib/core/leaf-certificate.js';
import * as x509 from '../../lib/core/x509.js';

const t0 = new Date('2026-11-21T12:00:00Z');
const at = (ms: number) => ({ now: () => new Date(t0.getTime() + ms) });
const random = { bytes: (n: number) => new Uint8Array(randomBytes(n)) };
const alice: Identity = {
  username: 'alice',
  roles: ['access'],
  traits: {},
  connector: 'local',
  accessRequests: [],
  issuedAt: t0.toISOString(),
};

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })), privateKey };
}

async function makeCa(name: string) {
  const key = keyPair();
  const signer: Signer = {
    publicKeySpki: async () => key.spki,
    sign: async (data) => new Uint8Array(sign('sha256', data, { key: key.privateKey, dsaEncoding: 'der' })),
  };
  const deps = { signer, clock: at(0), random };
  return { ...deps, certPem: await createCaCertificate(deps, name, 24 * 3_600_000), privateKey: key.privateKey };
}

/** A leaf the Kubeport CA signed but would never issue: clientAuth with a hand-picked extension. */
async function oddLeaf(ca: Awaited<ReturnType<typeof makeCa>>, extra: x509.Extension[]): Promise<string> {
  const signingKey = await globalThis.crypto.subtle.importKey(
    'pkcs8',
    new Uint8Array(ca.privateKey.export({ type: 'pkcs8', format: 'der' })),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  const cert = await x509.X509CertificateGenerator.create({
    subject: 'CN=alice',
    issuer: new x509.X509Certificate(ca.certPem).subject,
    notBefore: t0,
    notAfter: new Date(t0.getTime() + 3_600_000),
    publicKey: new Uint8Array(keyPair().spki),
    signingKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.ExtendedKeyUsageExtension([CLIENT_AUTH]), ...extra],
  });
  return cert.toString('pem');
}

/** What the agent does once TLS has accepted the chain. */
function agentCheck(pem: string, clock: { now: () => Date }) {
  const identity = leafIdentity(parseCertificate(pem));
  checkValidityPeriod(identity, clock.now());
  return identity;
}

describe('leaf certificate check', async () => {
  const ca = await makeCa('Kubeport user CA');
  const foreign = await makeCa('Kubeport user CA');
  const user = await issueUserCertificate(ca, keyPair().spki, alice, 3_600_000);
  const badJson = new x509.Extension(IDENTITY_EXTENSION_OID, false, new Uint8Array([0x0c, 0x03, ...new TextEncoder().encode('{x}')]));
  const cases: { name: string; pem: string; clock: { now: () => Date }; error: RegExp | null; agentToo: boolean }[] = [
    { name: 'a current user certificate', pem: user, clock: at(0), error: null, agentToo: true },
    { name: 'an expired one', pem: user, clock: at(2 * 3_600_000), error: /expired at .*run tsh login/, agentToo: true },
    { name: 'one not valid yet', pem: user, clock: at(-2 * 60_000), error: /not valid yet; check the clock/, agentToo: true },
    {
      name: 'a host certificate',
      pem: await issueHostCertificate(ca, keyPair().spki, { dns: ['h'], ips: [] }, 3_600_000),
      clock: at(0),
      error: /not for client authentication/,
      agentToo: true,
    },
    { name: 'the CA certificate itself', pem: ca.certPem, clock: at(0), error: /CA certificate cannot be used/, agentToo: true },
    {
      name: 'a clientAuth leaf without identity',
      pem: await oddLeaf(ca, []),
      clock: at(0),
      error: /carries no Kubeport identity/,
      agentToo: true,
    },
    {
      name: 'an identity that is not JSON',
      pem: await oddLeaf(ca, [badJson]),
      clock: at(0),
      error: /identity extension is not JSON/,
      agentToo: true,
    },
    // Same subject name, other key: only the signature tells them apart (TLS does this for the agent).
    {
      name: 'a user certificate of a foreign CA',
      pem: await issueUserCertificate(foreign, keyPair().spki, alice, 3_600_000),
      clock: at(0),
      error: /not signed by the Kubeport user CA/,
      agentToo: false,
    },
    { name: 'garbage', pem: 'garbage', clock: at(0), error: /malformed/, agentToo: true },
  ];

  for (const c of cases) {
    it(`${c.error ? 'refuses' : 'accepts'} ${c.name}, in the services and in the agent alike`, async () => {
      const services = verifyLeafCertificate(c.pem, [ca.certPem], c.clock);
      if (c.error) await expect(services).rejects.toThrow(c.error);
      else await expect(services).resolves.toMatchObject({ username: 'alice', roles: ['access'] });
      if (!c.agentToo) return;
      if (c.error) expect(() => agentCheck(c.pem, c.clock)).toThrow(c.error);
      else expect(agentCheck(c.pem, c.clock)).toMatchObject({ username: 'alice', roles: ['access'] });
    });
  }
});
