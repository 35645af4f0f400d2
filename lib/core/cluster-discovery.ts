// What discovery changes among the registered kube_cluster resources, given the clusters found
// carrying the discovery tag: pure, so the agent's loop only lists, decides here, and writes.
// Discovered resources carry an origin label; a resource without it was configured by someone and
// is never changed or removed by discovery, whatever the cloud says.
import { isDnsLabel } from './dns-name.js';

/** The label marking a kube_cluster registered by discovery; tags cannot set it (see sanitisedLabels). */
export const DISCOVERY_ORIGIN_LABEL = 'kubeport/origin';
export const DISCOVERY_ORIGIN_EKS = 'eks-discovery';
/** The label naming the AWS region of a discovered cluster. */
export const DISCOVERY_REGION_LABEL = 'kubeport/region';

// Labels are Kubeport's own namespace under this prefix; a cloud tag must not forge them.
const RESERVED_PREFIX = 'kubeport/';
// Teleport's label key characters; AWS tag keys may also hold spaces, `=`, `+`, `@` and any Unicode letter.
const LABEL_KEY_CHAR = /[a-zA-Z0-9/._:*-]/;
const MAX_KEY_LENGTH = 128;
const MAX_VALUE_LENGTH = 256;

export interface DiscoveredCluster {
  name: string;
  region: string;
  /** The cluster's tags as the cloud returned them. */
  tags: Record<string, string>;
}

export interface RegisteredCluster {
  name: string;
  labels: Record<string, string>;
  /** The EKS cluster the resource reaches, when its source is eks. */
  eks?: { name: string; region: string };
}

export interface ClusterToRegister {
  name: string;
  region: string;
  labels: Record<string, string>;
}

export interface DiscoveryChanges {
  add: ClusterToRegister[];
  /** Discovered clusters whose labels changed (a tag edited, added or removed). */
  update: ClusterToRegister[];
  /** Names of discovered clusters no longer found carrying the tag. */
  remove: string[];
  /** Clusters found but not registered, each with why (a name Kubeport cannot use, one configured by hand). */
  skipped: { name: string; reason: string }[];
}

function sanitisedKey(key: string): string {
  let out = '';
  for (const char of key) out += LABEL_KEY_CHAR.test(char) ? char : '_';
  return out.slice(0, MAX_KEY_LENGTH);
}

/**
 * A cluster's tags as labels: each character a label key cannot hold becomes `_`, keys and values
 * are cut to 128 and 256 characters, control characters in values become spaces, keys under
 * `kubeport/` are dropped (they are discovery's own), and when two tags sanitise to one key the
 * one whose original key sorts first wins. Then the origin and region labels are added.
 */
export function sanitisedLabels(tags: Record<string, string>, region: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const original of Object.keys(tags).sort()) {
    const key = sanitisedKey(original);
    if (key === '' || key.startsWith(RESERVED_PREFIX) || Object.hasOwn(labels, key)) continue;
    labels[key] = (tags[original] ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, MAX_VALUE_LENGTH);
  }
  labels[DISCOVERY_ORIGIN_LABEL] = DISCOVERY_ORIGIN_EKS;
  labels[DISCOVERY_REGION_LABEL] = region;
  return labels;
}

export function isDiscovered(cluster: RegisteredCluster): boolean {
  return cluster.labels[DISCOVERY_ORIGIN_LABEL] === DISCOVERY_ORIGIN_EKS;
}

// One EKS cluster is one (name, region) pair in the agent's account.
const eksKey = (eks: { name: string; region: string }) => `${eks.region}/${eks.name}`;

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && b[key] === a[key]);
}

/**
 * The changes that make the registered clusters match `discovered`: new ones added, changed labels
 * updated, discovered ones gone removed. Clusters configured explicitly are left as they are, even
 * when a tagged cluster of the same name is found. An EKS cluster a configured resource already
 * reaches (same name and region, whatever the resource is called) is never registered a second
 * time, and a second registration made earlier goes: its tag-made labels would otherwise open the
 * cluster to roles its admin never chose. `unreadable` names clusters listed but not described
 * this round (throttled, denied): whether they still carry the tag is unknown, so they stay.
 */
export function discoveryChanges(
  registered: readonly RegisteredCluster[],
  discovered: readonly DiscoveredCluster[],
  unreadable: readonly string[] = [],
): DiscoveryChanges {
  const changes: DiscoveryChanges = { add: [], update: [], remove: [], skipped: [] };
  const byName = new Map(registered.map((cluster) => [cluster.name, cluster]));
  // Which configured resource reaches each EKS cluster (the first by name, for a stable reason).
  const configuredFor = new Map<string, string>();
  for (const cluster of [...registered].sort((a, b) => a.name.localeCompare(b.name))) {
    if (isDiscovered(cluster) || cluster.eks === undefined || configuredFor.has(eksKey(cluster.eks))) continue;
    configuredFor.set(eksKey(cluster.eks), cluster.name);
  }
  const found = new Set<string>();
  for (const cluster of discovered) {
    if (!isDnsLabel(cluster.name)) {
      changes.skipped.push({
        name: cluster.name,
        reason: `its name is not a DNS-1123 label (lower-case letters, digits and -); register it by hand under such a name`,
      });
      continue;
    }
    if (found.has(cluster.name)) {
      changes.skipped.push({ name: cluster.name, reason: `a cluster of this name was also found in another region; register one by hand` });
      continue;
    }
    const current = byName.get(cluster.name);
    if (current !== undefined && !isDiscovered(current)) {
      found.add(cluster.name);
      changes.skipped.push({ name: cluster.name, reason: 'it is configured explicitly, which takes precedence' });
      continue;
    }
    const configured = configuredFor.get(eksKey(cluster));
    if (configured !== undefined) {
      // Not marked found: a registration discovery made before the admin's goes below.
      changes.skipped.push({
        name: cluster.name,
        reason: `the kube_cluster ${configured} is configured to reach this EKS cluster (${cluster.region}), which takes precedence`,
      });
      continue;
    }
    found.add(cluster.name);
    const wanted = { name: cluster.name, region: cluster.region, labels: sanitisedLabels(cluster.tags, cluster.region) };
    if (current === undefined) changes.add.push(wanted);
    else if (!sameLabels(current.labels, wanted.labels)) changes.update.push(wanted);
  }
  for (const cluster of registered) {
    if (!isDiscovered(cluster)) continue;
    if (found.has(cluster.name)) continue;
    // A second name for a configured EKS cluster goes even when its cluster was unreadable this round.
    const duplicate = cluster.eks !== undefined && configuredFor.has(eksKey(cluster.eks));
    if (duplicate || !unreadable.includes(cluster.name)) changes.remove.push(cluster.name);
  }
  return changes;
}
