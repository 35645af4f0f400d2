// tctl users unlock NAME: ends the lockout after failed logins before it runs out.
import type { TctlDeps } from './deps.js';

export async function run(options: { name: string }, deps: TctlDeps): Promise<void> {
  const client = await deps.admin();
  const result = await client.call<{ failures_cleared: number }>(
    'POST',
    `/webapi/admin/users/${encodeURIComponent(options.name)}/unlock`,
    {},
  );
  const cleared = result.failures_cleared;
  deps.out.stdout.write(
    cleared > 0
      ? `User "${options.name}" has been unlocked (${cleared} failed login${cleared === 1 ? '' : 's'} cleared) and may log in again.\n`
      : `User "${options.name}" had no failed logins counted; nothing was locked by failures, and any wait for this user at any address is cleared anyway.\n`,
  );
}
