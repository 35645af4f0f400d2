// tctl status: the cluster as tctl sees it, laid out like Teleport's: name, version, the CA
// fingerprints to compare with what a client trusts (and each CA's rotation phase), where kubectl
// connects, users and roles.
import { caFingerprint } from '../../core/ca-fingerprint.js';
import { ClientError } from '../api-client.js';
import type { CaStatus } from '../../services/cert-authorities.js';
import type { TctlDeps } from './deps.js';

interface Ping {
  cluster_name: string;
  server_version?: string;
  proxy?: { kube?: { public_addr?: string } };
  ca?: { user?: string[]; host?: string[] };
}

export async function run(_options: object, deps: TctlDeps): Promise<void> {
  const client = await deps.admin();
  const [ping, counts, cas] = await Promise.all([
    deps.api(client.proxy).call<Ping>('GET', '/webapi/ping'),
    client.call<{ users: number; roles: number }>('GET', '/webapi/admin/status'),
    // Without the rule to read cert_authority (403), or from a server older than rotation (404),
    // the fingerprints ping shows are all there is; any other failure is the user's to see.
    client.call<{ cas: CaStatus[] }>('GET', '/webapi/ca').then(
      (answer) => answer.cas,
      (error: unknown) => {
        if (error instanceof ClientError && (error.status === 403 || error.status === 404)) return undefined;
        throw error;
      },
    ),
  ]);
  const caRows = (label: string, type: 'user' | 'host', pems: string[] | undefined): [string, string][] => {
    const status = cas?.find((ca) => ca.type === type);
    if (!status) return (pems ?? []).map((pem) => [label, caFingerprint(pem)]);
    const rotation =
      status.phase === 'standby'
        ? 'standby'
        : status.next_phase
          ? `rotating automatically, phase ${status.phase}; ${status.next_phase.phase} at ${status.next_phase.at}`
          : `rotating, phase ${status.phase}`;
    return [
      [label, `${status.signing} (${rotation})`],
      ...status.trusted.filter((fp) => fp !== status.signing).map((fp): [string, string] => [`${label} (also trusted)`, fp]),
      ...(status.old_key_retires ? [[`${label} old key retires`, status.old_key_retires] as [string, string]] : []),
    ];
  };
  const rows: [string, string][] = [
    ['Cluster', ping.cluster_name],
    ['Version', ping.server_version ?? 'unknown'],
    ['Auth API', client.proxy],
    ['Agent', `${ping.proxy?.kube?.public_addr ?? 'unknown'} (kubectl connects here)`],
    ...caRows('User CA', 'user', ping.ca?.user),
    ...caRows('Host CA', 'host', ping.ca?.host),
    ['Users', String(counts.users)],
    ['Roles', String(counts.roles)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  deps.out.stdout.write(rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`).join('\n') + '\n');
}
