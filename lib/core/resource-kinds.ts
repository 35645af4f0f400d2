// The kind names tctl get and rm accept, as Teleport's tctl does: singular or plural, any case,
// `connector(s)` for the GitHub connectors. Only kinds this server has a schema for resolve.
import { KUBE_CLUSTER_STATUS_KIND } from './kube-cluster-health.js';
import { STATUS_KIND_READ_ONLY } from './kube-cluster-status-block.js';
import { nearestName } from './nearest-name.js';
import { RESOURCE_KIND_NAMES, type ResourceKindName, isResourceKindName } from './resource-kind-names.js';

const aliases: Record<string, string> = {
  roles: 'role',
  users: 'user',
  kube_clusters: 'kube_cluster',
  connector: 'github',
  connectors: 'github',
  locks: 'lock',
};

export function resolveKind(text: string): ResourceKindName | undefined {
  const lower = text.toLowerCase();
  const kind = aliases[lower] ?? lower;
  return isResourceKindName(kind) ? kind : undefined;
}

/** Names the kinds there are and, for a typo, the one meant. */
export function unknownKindMessage(text: string): string {
  // The agents' health records are stored, but not a kind anyone gets, creates or removes by hand.
  if ([KUBE_CLUSTER_STATUS_KIND, `${KUBE_CLUSTER_STATUS_KIND}es`].includes(text.toLowerCase())) return STATUS_KIND_READ_ONLY;
  const known: readonly string[] = RESOURCE_KIND_NAMES;
  const near = nearestName(text, [...known, ...Object.keys(aliases).filter((alias) => isResourceKindName(aliases[alias]!))]);
  const meant = near ? resolveKind(near) : undefined;
  return `unknown kind ${JSON.stringify(text)}; ${meant ? `did you mean ${meant}? ` : ''}kinds are ${known.join(', ')}`;
}
