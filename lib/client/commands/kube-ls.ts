// tsh kube ls: the clusters the login may reach, with what their agent last found, as a table
// (the selected one marked, unhealthy clusters' reasons and fixes below it), JSON or YAML.
import { followCaRotation } from '../ca-refresh.js';
import { type ClusterInfo, contextName, listClusters } from '../kube-clusters.js';
import { readKubeconfigFile } from '../kubeconfig-editor.js';
import { currentProfile, requireValid } from '../session.js';
import { structuredFormat, writeStructured } from '../structured-output.js';
import { textTable } from '../text-table.js';
import { unhealthyNote } from '../cluster-health-note.js';
import type { TshDeps } from './deps.js';

export interface KubeLsOptions {
  proxy?: string;
  /** text (default), json or yaml. */
  format?: string;
}

export async function run(options: KubeLsOptions, deps: TshDeps): Promise<void> {
  const format = structuredFormat(options.format);
  const { profile, keys } = currentProfile(deps.store, options.proxy);
  requireValid(profile, keys, deps.clock.now());
  await followCaRotation(deps, profile, keys);
  const clusters = await listClusters(deps, profile, keys);
  const current = readKubeconfigFile(deps.config.kubeconfig)['current-context'];
  const rows = clusters.map((c) => ({
    kube_cluster_name: c.name,
    labels: c.labels,
    selected: current === contextName(profile, c.name),
    status: shownStatus(c),
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
    ...(c.fix !== undefined ? { fix: c.fix } : {}),
  }));
  if (await writeStructured(deps.out.stdout, format, rows)) return;
  const table = textTable(
    ['Kube Cluster Name', 'Labels', 'Status', 'Selected'],
    rows.map((r) => [
      r.kube_cluster_name,
      Object.entries(r.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
      r.status,
      r.selected ? '*' : '',
    ]),
  );
  // Unhealthy clusters only: an unknown status says so in its column, and its cause is usually the agent, not the cluster.
  const notes = rows.filter((r) => r.status === 'unhealthy').map((r) => unhealthyNote(r.kube_cluster_name, r.reason, r.fix));
  deps.out.stdout.write(table + notes.join('') + (notes.length > 0 ? '\n' : ''));
}

/** A control plane from before cluster health answers no status: unknown. */
const shownStatus = (c: ClusterInfo) => c.status ?? 'unknown';
