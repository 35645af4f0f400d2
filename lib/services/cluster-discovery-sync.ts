// Keeps the kube_cluster resources in step with the EKS clusters carrying the discovery tag: new
// ones registered (eks source, tags as sanitised labels), changed tags followed, discovered ones
// that went away removed. A resource without discovery's origin label was configured by someone
// (an admin, KUBEPORT_EKS_CLUSTERS) and is never changed or removed here, and the EKS cluster it
// reaches is never registered again under another name (see discoveryChanges). Every write is
// conditional on the revision read, so an admin's edit made meanwhile wins; every change is
// audited as the system's.
import {
  DISCOVERY_REGION_LABEL,
  type ClusterToRegister,
  type RegisteredCluster,
  discoveryChanges,
  isDiscovered,
} from '../core/cluster-discovery.js';
import { ConflictError } from '../core/errors.js';
import type { AuditLog, Clock, Random, ResourceStore, StoredResource, TaggedClusterSource } from '../core/ports.js';
import { type KubeCluster, kubeClusterSchema } from '../core/resources.js';
import { auditEvent } from './audit-events.js';
import type { Timers } from './audit-writer.js';
import { removeClusterStatus } from './kube-cluster-statuses.js';
import { RepeatingRound } from './repeating-round.js';

/** Who audit events name for discovery's and the start's registrations. */
export const SYSTEM_ACTOR = 'system';
const DISCOVERY_AUDIT_SOURCE = 'eks-discovery';
const CONFIGURED_AUDIT_SOURCE = 'KUBEPORT_EKS_CLUSTERS';

export interface ClusterRegistrationDeps {
  resources: ResourceStore;
  /** Where the changes are audited (the agent may pass its sink's submit wrapped as emit). */
  audit: Pick<AuditLog, 'emit'>;
  clock: Clock;
  random: Random;
}

export interface DiscoverySyncResult {
  added: string[];
  updated: string[];
  removed: string[];
  /** Found but left alone, each with why. */
  skipped: { name: string; reason: string }[];
  /** Changes not made because the resource changed meanwhile (retried next round). */
  conflicts: string[];
  failedRegions: { region: string; message: string }[];
}

/** A kube_cluster whose eks source has its own name (discovered, or named in KUBEPORT_EKS_CLUSTERS). */
function eksClusterBody(cluster: ClusterToRegister): KubeCluster {
  return {
    kind: 'kube_cluster',
    version: 'v3',
    metadata: { name: cluster.name, labels: cluster.labels },
    spec: { source: 'eks', eks: { name: cluster.name, region: cluster.region } },
  };
}

const registeredOf = (stored: StoredResource<KubeCluster>): RegisteredCluster => {
  const eks = stored.body.spec?.eks;
  return {
    name: stored.name,
    labels: stored.body.metadata?.labels ?? {},
    ...(eks?.name !== undefined && eks.region !== undefined ? { eks: { name: eks.name, region: eks.region } } : {}),
  };
};

/** The region a discovered resource came from: its region label, else its eks source's. */
const regionOf = (stored: StoredResource<KubeCluster>) =>
  stored.body.metadata?.labels?.[DISCOVERY_REGION_LABEL] ?? stored.body.spec?.eks?.region;

/** One round: lists the tagged clusters and makes the registered discovered ones match. */
export async function syncDiscoveredClusters(deps: ClusterRegistrationDeps, source: TaggedClusterSource): Promise<DiscoverySyncResult> {
  const listing = await source.list();
  const stored = await deps.resources.list<KubeCluster>('kube_cluster');
  const byName = new Map(stored.map((s) => [s.name, s]));
  // A region that could not be listed says nothing about its clusters: they all stay.
  const failed = new Set(listing.failedRegions.map((f) => f.region));
  const keep = [
    ...listing.unreadable,
    ...stored.filter((s) => isDiscovered(registeredOf(s)) && failed.has(regionOf(s) ?? '')).map((s) => s.name),
  ];
  const changes = discoveryChanges(stored.map(registeredOf), listing.clusters, keep);
  const result: DiscoverySyncResult = {
    added: [],
    updated: [],
    removed: [],
    skipped: changes.skipped,
    conflicts: [],
    failedRegions: listing.failedRegions,
  };
  const audited = (event: 'kube.create' | 'kube.update' | 'kube.delete', name: string, region: string | undefined) =>
    deps.audit.emit(
      auditEvent(deps, event, {
        user: SYSTEM_ACTOR,
        kind: 'kube_cluster',
        name,
        source: DISCOVERY_AUDIT_SOURCE,
        ...(region ? { region } : {}),
      }),
    );
  const conditionally = async (name: string, write: () => Promise<unknown>): Promise<boolean> => {
    try {
      await write();
      return true;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      result.conflicts.push(name);
      return false;
    }
  };

  for (const cluster of changes.add) {
    const body = eksClusterBody(cluster);
    if (!kubeClusterSchema.safeParse(body).success) {
      result.skipped.push({ name: cluster.name, reason: 'its tags do not make a valid kube_cluster' });
      continue;
    }
    if (await conditionally(cluster.name, () => deps.resources.put('kube_cluster', cluster.name, body, { expectRevision: null }))) {
      result.added.push(cluster.name);
      await audited('kube.create', cluster.name, cluster.region);
    }
  }
  for (const cluster of changes.update) {
    const current = byName.get(cluster.name)!;
    const body = eksClusterBody(cluster);
    const write = () => deps.resources.put('kube_cluster', cluster.name, body, { expectRevision: current.revision });
    if (await conditionally(cluster.name, write)) {
      result.updated.push(cluster.name);
      await audited('kube.update', cluster.name, cluster.region);
    }
  }
  for (const name of changes.remove) {
    const current = byName.get(name)!;
    const remove = () => deps.resources.delete('kube_cluster', name, { expectRevision: current.revision });
    if (await conditionally(name, remove)) {
      result.removed.push(name);
      // As when an admin removes one: a cluster of the same name found later starts unknown.
      await removeClusterStatus(deps.resources, name);
      await audited('kube.delete', name, regionOf(current));
    }
  }
  return result;
}

export interface ConfiguredClustersResult {
  registered: string[];
  /** Already registered (by an admin, or by an earlier start): left as they are. */
  kept: string[];
  skipped: { name: string; reason: string }[];
}

/**
 * KUBEPORT_EKS_CLUSTERS at start: each EKS cluster of `region` named is registered (eks source,
 * no labels) unless a kube_cluster of that name exists, which stays as its author wrote it. One
 * that discovery had registered becomes configured: its kubeport/ labels go, so discovery never
 * removes it.
 */
export async function ensureConfiguredClusters(
  deps: ClusterRegistrationDeps,
  names: readonly string[],
  region: string,
): Promise<ConfiguredClustersResult> {
  const result: ConfiguredClustersResult = { registered: [], kept: [], skipped: [] };
  for (const name of [...new Set(names)]) {
    const body = eksClusterBody({ name, region, labels: {} });
    const parsed = kubeClusterSchema.safeParse(body);
    if (!parsed.success) {
      result.skipped.push({
        name,
        reason: `not usable as a kube_cluster name or EKS source (${parsed.error.issues[0]?.message ?? 'invalid'}); register it with tctl create under a DNS-1123 name`,
      });
      continue;
    }
    const existing = await deps.resources.get<KubeCluster>('kube_cluster', name);
    let wrote: 'kube.create' | 'kube.update' | undefined;
    try {
      if (existing === undefined) {
        await deps.resources.put('kube_cluster', name, body, { expectRevision: null });
        wrote = 'kube.create';
      } else if (isDiscovered(registeredOf(existing))) {
        const labels = Object.fromEntries(
          Object.entries(existing.body.metadata.labels ?? {}).filter(([key]) => !key.startsWith('kubeport/')),
        );
        const configured: KubeCluster = { ...existing.body, metadata: { ...existing.body.metadata, labels } };
        await deps.resources.put('kube_cluster', name, configured, { expectRevision: existing.revision });
        wrote = 'kube.update';
      }
    } catch (error) {
      // Another agent starting at the same time, or an admin, wrote it first: theirs stands.
      if (!(error instanceof ConflictError)) throw error;
    }
    if (wrote === undefined) {
      result.kept.push(name);
      continue;
    }
    result.registered.push(name);
    await deps.audit.emit(
      auditEvent(deps, wrote, { user: SYSTEM_ACTOR, kind: 'kube_cluster', name, source: CONFIGURED_AUDIT_SOURCE, region }),
    );
  }
  return result;
}

export interface ClusterDiscoveryLoopOptions {
  intervalMs: number;
  timers: Timers;
  log: (message: string) => void;
}

/** Discovery every interval: changes are logged as they happen, skips and failed regions when they change. */
export class ClusterDiscoveryLoop {
  private readonly rounds: RepeatingRound;
  private lastNotes = new Set<string>();

  constructor(
    private readonly deps: ClusterRegistrationDeps,
    private readonly source: TaggedClusterSource,
    private readonly options: ClusterDiscoveryLoopOptions,
  ) {
    this.rounds = new RepeatingRound(() => this.round(), { ...options, name: 'cluster discovery' });
  }

  start(): Promise<void> {
    return this.rounds.start();
  }

  runNow(): Promise<void> {
    return this.rounds.runNow();
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }

  private async round(): Promise<void> {
    const result = await syncDiscoveredClusters(this.deps, this.source);
    const { log } = this.options;
    for (const [what, names] of [
      ['registered', result.added],
      ['updated', result.updated],
      ['removed', result.removed],
    ] as const) {
      if (names.length > 0) log(`cluster discovery ${what} ${names.join(', ')}`);
    }
    const notes = new Set([
      ...result.skipped.map((s) => `cluster discovery skips ${s.name}: ${s.reason}`),
      ...result.failedRegions.map(
        (f) => `cluster discovery could not list region ${f.region} (its clusters stay registered): ${f.message}`,
      ),
    ]);
    for (const note of notes) if (!this.lastNotes.has(note)) log(note);
    this.lastNotes = notes;
  }
}
