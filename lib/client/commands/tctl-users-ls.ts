// tctl users ls: every user, its roles and how it signs in (local or github).
import { userConnector } from '../resource-table.js';
import type { TctlDeps } from './deps.js';

export async function run(_options: Record<string, never>, deps: TctlDeps): Promise<void> {
  const client = await deps.admin();
  const answer = await client.call<{ items: { metadata: { name: string }; spec: Record<string, unknown> & { roles: string[] } }[] }>(
    'GET',
    '/webapi/admin/users',
  );
  const rows = [
    ['User', 'Roles', 'Connector'],
    ...answer.items.map((u) => [u.metadata.name, u.spec.roles.join(','), userConnector(u.spec)]),
  ];
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  deps.out.stdout.write(`${rows.map((r) => `${r[0]!.padEnd(widths[0]!)} ${r[1]!.padEnd(widths[1]!)} ${r[2]}`).join('\n')}\n`);
}
