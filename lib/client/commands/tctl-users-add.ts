// tctl users add NAME: creates a local user and prints the one-time invite to hand over.
import { validity } from '../../core/human-duration.js';
import { cliCommand } from '../command-hint.js';
import type { TctlDeps } from './deps.js';

export interface UsersAddOptions {
  name: string;
  roles: string[];
  kubernetesGroups: string[];
  kubernetesUsers: string[];
}

export async function run(options: UsersAddOptions, deps: TctlDeps): Promise<void> {
  const client = await deps.admin();
  const result = await client.call<{ invite: string; expires: string }>('POST', '/webapi/admin/users', {
    name: options.name,
    roles: options.roles,
    kubernetes_groups: options.kubernetesGroups,
    kubernetes_users: options.kubernetesUsers,
  });
  writeInvite(deps, `User "${options.name}" has been created.`, { name: options.name, proxy: client.proxy, ...result });
}

/** The invite as users add and users reset print it: the tsh login line to hand to the user. */
export function writeInvite(deps: TctlDeps, headline: string, invite: { name: string; proxy: string; invite: string; expires: string }) {
  deps.out.stdout.write(
    `${headline} The invite is valid until ${validity(new Date(invite.expires), deps.clock.now())} and works once.\n` +
      `Share this command with ${invite.name}:\n\n  ${cliCommand('tsh')} login --proxy=${invite.proxy} --user=${invite.name} --invite=${invite.invite}\n\n`,
  );
}
