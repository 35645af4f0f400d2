// tctl users ls: every user and its roles.
import type { TctlDeps } from './deps.js';

export async function run(_options: Record<string, never>, deps: TctlDeps): Promise<void> {
  const client = await deps.admin();
  const answer = await client.call<{ items: { metadata: { name: string }; spec: { roles: string[] } }[] }>('GET', '/webapi/admin/users');
  const rows = [['User', 'Roles'], ...answer.items.map((u) => [u.metadata.name, u.spec.roles.join(',')])];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  deps.out.stdout.write(`${rows.map((r) => `${r[0]!.padEnd(width)} ${r[1]}`).join('\n')}\n`);
}
