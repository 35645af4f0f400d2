// INTERIM stand-in for the roles branch's resource decision (same contract), so the agent's
// wiring can be tested before that branch lands; its version replaces this file on merge.
import { accessDenied } from './errors.js';
import type { Traits } from './identity.js';
import type { ClusterView } from './kube-access.js';
import type { KubeRequestInfo } from './kube-request-info.js';
import { matchesLabels } from './label-match.js';
import type { Role } from './resources.js';

type Entry = NonNullable<Role['spec']['allow']['kubernetes_resources']>[number];

const EVERYTHING: Entry = { kind: '*', namespace: '*', name: '*', verbs: ['*'], api_group: '*' };

export function checkKubeResourceAccess(roles: Role[], _traits: Traits, cluster: ClusterView, request: KubeRequestInfo): void {
  if (!request.isResourceRequest) return;
  const verb = teleportVerb(request);
  const matches = (entry: Entry) =>
    glob(entry.kind, request.resource) &&
    glob(entry.api_group ?? '*', request.apiGroup) &&
    glob(entry.namespace, request.namespace) &&
    glob(entry.name, request.name) &&
    (entry.verbs.includes('*') || entry.verbs.includes(verb));
  for (const role of roles) {
    const denied = (role.spec.deny.kubernetes_resources ?? []).find(matches);
    if (denied)
      throw accessDenied(`role ${role.metadata.name} denies ${verb} on ${request.resource} (deny entry ${JSON.stringify(denied)})`);
  }
  const allowed = roles.some(
    (role) =>
      matchesLabels(role.spec.allow.kubernetes_labels, cluster.labels) &&
      (role.spec.allow.kubernetes_resources ?? [EVERYTHING]).some(matches),
  );
  if (!allowed) {
    throw accessDenied(
      `no kubernetes_resources entry of your roles (${roles.map((r) => r.metadata.name).join(', ')}) allows ${verb} on ${request.resource}`,
    );
  }
}

function teleportVerb(request: KubeRequestInfo): string {
  if (request.subresource === 'exec' || request.subresource === 'attach') return 'exec';
  if (request.subresource === 'portforward') return 'portforward';
  if (request.subresource === 'proxy') return 'proxy';
  return request.verb;
}

function glob(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return re.test(value);
}
