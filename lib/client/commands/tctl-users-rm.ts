// tctl users rm NAME: removes the user; the agent cuts off its certificates within seconds.
import type { TctlDeps } from './deps.js';

export async function run(options: { name: string }, deps: TctlDeps): Promise<void> {
  const client = await deps.admin();
  await client.call('DELETE', `/webapi/admin/users/${encodeURIComponent(options.name)}`);
  deps.out.stdout.write(`User "${options.name}" has been deleted.\n`);
}
