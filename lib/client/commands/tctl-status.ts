// tctl status: the cluster as tctl sees it, laid out like Teleport's: name, version, the CA
// fingerprints to compare with what a client trusts, where kubectl connects, users and roles.
import { caFingerprint } from '../../core/ca-fingerprint.js';
import type { TctlDeps } from './deps.js';

interface Ping {
  cluster_name: string;
  server_version?: string;
  proxy?: { kube?: { public_addr?: string } };
  ca?: { user?: string[]; host?: string[] };
}

export async function run(_options: object, deps: TctlDeps): Promise<void> {
  const client = await deps.admin();
  const [ping, counts] = await Promise.all([
    deps.api(client.proxy).call<Ping>('GET', '/webapi/ping'),
    client.call<{ users: number; roles: number }>('GET', '/webapi/admin/status'),
  ]);
  const rows: [string, string][] = [
    ['Cluster', ping.cluster_name],
    ['Version', ping.server_version ?? 'unknown'],
    ['Auth API', client.proxy],
    ['Agent', `${ping.proxy?.kube?.public_addr ?? 'unknown'} (kubectl connects here)`],
    ...(ping.ca?.user ?? []).map((pem): [string, string] => ['User CA', caFingerprint(pem)]),
    ...(ping.ca?.host ?? []).map((pem): [string, string] => ['Host CA', caFingerprint(pem)]),
    ['Users', String(counts.users)],
    ['Roles', String(counts.roles)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  deps.out.stdout.write(rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`).join('\n') + '\n');
}
