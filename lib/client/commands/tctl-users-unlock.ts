// tctl users unlock NAME: ends the lockout after failed logins before it runs out.
import type { TctlDeps } from './deps.js';

export async function run(options: { name: string }, deps: TctlDeps): Promise<void> {
  const client = await deps.admin();
  await client.call('POST', `/webapi/admin/users/${encodeURIComponent(options.name)}/unlock`, {});
  deps.out.stdout.write(`User "${options.name}" has been unlocked and may log in again.\n`);
}
