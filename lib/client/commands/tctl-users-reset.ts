// tctl users reset NAME: for a user who lost the password or the authenticator. Clears both,
// ends the certificates issued so far, and prints a new invite as users add does.
import type { TctlDeps } from './deps.js';
import { writeInvite } from './tctl-users-add.js';

export async function run(options: { name: string }, deps: TctlDeps): Promise<void> {
  const client = await deps.admin();
  const result = await client.call<{ invite: string; expires: string }>(
    'POST',
    `/webapi/admin/users/${encodeURIComponent(options.name)}/reset`,
    {},
  );
  writeInvite(deps, `User "${options.name}" has been reset: the password and TOTP are cleared and earlier certificates no longer work.`, {
    name: options.name,
    proxy: client.proxy,
    ...result,
  });
}
