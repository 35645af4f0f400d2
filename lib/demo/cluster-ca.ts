// The stand-in's own CA: its serving certificate and the client certificates it accepts. Made
// fresh at every start and kept in memory only.
import { createEphemeralCa, newLeafKey } from '../adapters/local/ephemeral-ca.js';
import { buildCertificate } from '../core/certificate-template.js';
import type { Clock } from '../core/ports.js';

// Long enough for a demo cluster left running for days; the key dies with the process anyway.
// Longer than a Kubeport leaf may live: this CA never rotates, so it builds its certificates itself.
const LEAF_TTL_MS = 30 * 24 * 3_600_000;

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface ClusterCa {
  certPem: string;
  /** A serving certificate for these names and addresses. */
  issueServing(hosts: { dns: string[]; ips: string[] }): Promise<PemPair>;
  /** A client certificate the apiserver reads as this user (CN) in these groups (O). */
  issueClient(username: string, groups?: string[]): Promise<PemPair>;
}

export async function createClusterCa(commonName: string, options: { clock?: Clock } = {}): Promise<ClusterCa> {
  const ca = await createEphemeralCa(commonName, options);
  return {
    certPem: ca.certPem,
    async issueServing(hosts) {
      const key = newLeafKey();
      return { certPem: await buildCertificate(ca, key.spki, { kind: 'host', ...hosts }, LEAF_TTL_MS), keyPem: key.keyPem };
    },
    // A Kubeport user certificate has the subject Kubernetes reads (CN user, O groups), so the
    // one builder serves both; Kubernetes ignores the Kubeport identity extension it also carries.
    async issueClient(username, groups = []) {
      const key = newLeafKey();
      const identity = {
        username,
        roles: groups,
        traits: {},
        connector: 'demo',
        accessRequests: [],
        issuedAt: ca.clock.now().toISOString(),
      };
      return { certPem: await buildCertificate(ca, key.spki, { kind: 'user', identity }, LEAF_TTL_MS), keyPem: key.keyPem };
    },
  };
}
