// tctl users add NAME: creates a local user and prints the one-time invite to hand over.
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
  deps.out.stdout.write(
    `User "${options.name}" has been created. The invite is valid until ${result.expires} (1 hour) and works once.\n` +
      `Share this command with ${options.name}:\n\n  npx tsh login --proxy=${client.proxy} --user=${options.name} --invite=${result.invite}\n\n`,
  );
}
