import { randomBytes, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateTtl, issueHostCertificate, issueUserCertificate } from '../../lib/core/certificate-authority.js';
import { identityFromCertificate, verifyLeafCertificate as verifyUserCertificate } from '../../lib/core/leaf-certificate.js';
import { createEphemeralCa, newLeafKey } from '../../lib/adapters/local/ephemeral-ca.js';
import type { Identity } from '../../lib/core/identity.js';

const t0 = new Date('2026-11-21T12:00:00Z');
const clockAt = (date: Date) => ({ now: () => date });
const random = { bytes: (n: number) => new Uint8Array(randomBytes(n)) };
const alice: Identity = {
  username: 'alice',
  roles: ['access'],
  traits: { kubernetes_groups: ['devs'], kubernetes_users: [] },
  connector: 'local',
  accessRequests: [],
  issuedAt: t0.toISOString(),
};

const makeCa = (name = 'user-ca') => createEphemeralCa(name, { clock: clockAt(t0), random, validityMs: 10 * 365 * 24 * 3_600_000 });
const clientKey = () => newLeafKey().spki;

describe('certificate authority', () => {
  it('issues a user certificate that Node and the verifier accept, carrying the identity', async () => {
    const ca = await makeCa();
    const pem = await issueUserCertificate(ca, clientKey(), alice, 3_600_000);
    const cert = new X509Certificate(pem);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.subject).toContain('CN=alice');
    expect(cert.subject).toContain('O=access');
    expect(new Date(cert.validTo).getTime()).toBe(Math.floor((t0.getTime() + 3_600_000) / 1000) * 1000);
    expect(new Date(cert.validFrom).getTime()).toBe(t0.getTime() - 60_000);
    const identity = await verifyUserCertificate(pem, [ca.certPem], clockAt(t0));
    expect(identity).toMatchObject({ username: 'alice', roles: ['access'], traits: { kubernetes_groups: ['devs'] } });
    expect(identityFromCertificate(pem).notAfter.getTime()).toBe(t0.getTime() + 3_600_000);
  });

  it('refuses expired, foreign-CA and host certificates', async () => {
    const ca = await makeCa();
    const foreign = await makeCa('user-ca');
    const pem = await issueUserCertificate(ca, clientKey(), alice, 3_600_000);
    await expect(verifyUserCertificate(pem, [ca.certPem], clockAt(new Date(t0.getTime() + 2 * 3_600_000)))).rejects.toThrow(/expired/);
    await expect(verifyUserCertificate(pem, [foreign.certPem], clockAt(t0))).rejects.toThrow(/not signed by the Kubeport user CA/);
    const host = await issueHostCertificate(ca, clientKey(), { dns: ['localhost'], ips: ['127.0.0.1'] }, 3_600_000);
    await expect(verifyUserCertificate(host, [ca.certPem], clockAt(t0))).rejects.toThrow(/client authentication|identity/);
    await expect(verifyUserCertificate(ca.certPem, [ca.certPem], clockAt(t0))).rejects.toThrow(/CA certificate/);
    await expect(verifyUserCertificate('garbage', [ca.certPem], clockAt(t0))).rejects.toThrow(/malformed/);
  });

  it('refuses to issue a user or host certificate that would outlive a rotated-out key (over 30h)', async () => {
    const ca = await makeCa();
    const hosts = { dns: ['localhost'], ips: [] };
    await expect(issueUserCertificate(ca, clientKey(), alice, 30 * 3_600_000 + 1)).rejects.toThrow(/at most 30h/);
    await expect(issueHostCertificate(ca, clientKey(), hosts, 31 * 3_600_000)).rejects.toThrow(/host certificate may live at most 30h/);
    const longest = new X509Certificate(await issueHostCertificate(ca, clientKey(), hosts, 30 * 3_600_000));
    expect(new Date(longest.validTo).getTime()).toBe(t0.getTime() + 30 * 3_600_000);
  });

  it('caps the TTL by every role and by 30h', () => {
    expect(certificateTtl(undefined, [])).toBe(12 * 3_600_000);
    expect(certificateTtl(40 * 3_600_000, [])).toBe(30 * 3_600_000);
    expect(certificateTtl(10 * 3_600_000, [8 * 3_600_000, 30 * 3_600_000])).toBe(8 * 3_600_000);
  });
});
