// tsh kube ls: the clusters the login may reach, as a table or JSON, the selected one marked.
import { followCaRotation } from '../ca-refresh.js';
import { contextName, listClusters } from '../kube-clusters.js';
import { readKubeconfigFile } from '../kubeconfig-editor.js';
import { currentProfile, requireValid } from '../session.js';
import type { TshDeps } from './deps.js';

export interface KubeLsOptions {
  proxy?: string;
  format: 'text' | 'json';
}

export async function run(options: KubeLsOptions, deps: TshDeps): Promise<void> {
  const { profile, keys } = currentProfile(deps.store, options.proxy);
  requireValid(profile, keys, deps.clock.now());
  await followCaRotation(deps, profile, keys);
  const clusters = await listClusters(deps, profile, keys);
  const current = readKubeconfigFile(deps.config.kubeconfig)['current-context'];
  const rows = clusters.map((c) => ({ kube_cluster_name: c.name, labels: c.labels, selected: current === contextName(profile, c.name) }));
  if (options.format === 'json') {
    deps.out.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const table = [
    ['Kube Cluster Name', 'Labels', 'Selected'],
    ...rows.map((r) => [
      r.kube_cluster_name,
      Object.entries(r.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
      r.selected ? '*' : '',
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join(' ')
      .trimEnd();
  deps.out.stdout.write(`${[line(table[0]!), line(widths.map((w) => '-'.repeat(w))), ...table.slice(1).map(line)].join('\n')}\n`);
}
