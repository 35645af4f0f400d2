// tctl users update NAME --set-roles=… --set-kubernetes-groups=… --set-kubernetes-users=…: each
// list given replaces the user's (an empty one clears it); certificates issued before stop working,
// unless nothing changed.
import { UsageError } from '../usage-error.js';
import type { TctlDeps } from './deps.js';

export interface UsersUpdateOptions {
  name: string;
  roles?: string[];
  kubernetesGroups?: string[];
  kubernetesUsers?: string[];
}

export async function run(options: UsersUpdateOptions, deps: TctlDeps): Promise<void> {
  if (options.roles === undefined && options.kubernetesGroups === undefined && options.kubernetesUsers === undefined) {
    throw new UsageError('nothing to update; give --set-roles, --set-kubernetes-groups or --set-kubernetes-users');
  }
  const client = await deps.admin();
  const { user, changed } = await client.call<{ user: { spec: { roles: string[]; traits: Record<string, string[]> } }; changed?: boolean }>(
    'POST',
    `/webapi/admin/users/${encodeURIComponent(options.name)}/update`,
    {
      ...(options.roles !== undefined ? { roles: options.roles } : {}),
      ...(options.kubernetesGroups !== undefined ? { kubernetes_groups: options.kubernetesGroups } : {}),
      ...(options.kubernetesUsers !== undefined ? { kubernetes_users: options.kubernetesUsers } : {}),
    },
  );
  const shown = (values: string[] | undefined) => (values && values.length > 0 ? values.join(',') : '(none)');
  // An older API that does not say is taken as changed (it revoked).
  const unchanged = changed === false;
  deps.out.stdout.write(
    (unchanged ? `User "${options.name}" already has these; nothing changed:\n` : `User "${options.name}" has been updated:\n`) +
      `  Roles:             ${shown(user.spec.roles)}\n` +
      `  Kubernetes groups: ${shown(user.spec.traits.kubernetes_groups)}\n` +
      `  Kubernetes users:  ${shown(user.spec.traits.kubernetes_users)}\n` +
      (unchanged
        ? `Certificates issued before keep working.\n`
        : `Certificates issued before now no longer work; ${options.name} gets the new access with tsh login.\n`),
  );
}
