// What the CLI tests share: the real auth and admin handlers over HTTP (test/support/api-harness),
// an admin identity to create users with, and the in-process dependencies of tsh and tctl.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../lib/client/api-client.js';
import { ADMIN_IDENTITY_FILE } from '../../lib/client/admin-identity-path.js';
import { apiAudience } from '../../lib/core/signed-request.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';

export interface ClientHarness extends ApiHarness {
  /** A data directory holding the admin identity, as npm start writes it. */
  dataDir: string;
  /** Creates a user through the admin API; returns the invite. */
  addUser(name: string, options: { roles: string[]; kubernetesGroups?: string[] }): Promise<string>;
}

export async function startClientHarness(): Promise<ClientHarness> {
  const api = await startApiHarness();
  const admin = await api.identity({ username: 'kubeport-admin', roles: ['editor'] }, { ttlMs: 12 * 3_600_000 });
  const dataDir = mkdtempSync(join(tmpdir(), 'kubeport-data-'));
  writeFileSync(join(dataDir, ADMIN_IDENTITY_FILE), JSON.stringify({ proxy: api.proxy, user: 'kubeport-admin', cert: admin.certPem, key: admin.keyPem }), { mode: 0o600 });
  const client = new ApiClient(api.proxy, apiAudience(api.deps.clusterName));
  return {
    ...api,
    dataDir,
    addUser: async (name, options) => {
      const answer = await client.call<{ invite: string }>('POST', '/webapi/admin/users', { name, roles: options.roles, kubernetes_groups: options.kubernetesGroups ?? [] }, admin);
      return answer.invite;
    },
  };
}
