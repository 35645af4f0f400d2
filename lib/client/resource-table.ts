// tctl get --format=text: one table per kind with the columns an admin looks for first.
import { type LockTarget, describeTarget } from '../core/lock-target.js';
import { textTable } from './text-table.js';
import { unhealthyNote } from './cluster-health-note.js';

type Body = { metadata: { name: string; labels?: Record<string, string> }; spec?: Record<string, unknown> };

const list = (value: unknown) => (Array.isArray(value) ? value.map(String).join(',') : '');
const labels = (value: unknown) =>
  typeof value === 'object' && value !== null
    ? Object.entries(value)
        .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`)
        .join(' ')
    : '';

/** local, github or builtin: how the user signs in. */
export function userConnector(spec: Record<string, unknown> | undefined): string {
  const createdBy = spec?.created_by as { connector?: unknown } | undefined;
  const connector = createdBy?.connector;
  if (typeof connector === 'string' && connector !== '') return connector;
  if (typeof connector === 'object' && connector !== null && typeof (connector as { type?: unknown }).type === 'string') {
    return (connector as { type: string }).type;
  }
  return Array.isArray(spec?.github_identities) && spec.github_identities.length > 0 ? 'github' : 'local';
}

/** `eks REGION/NAME` or `kubeconfig` (the default when no eks block is given). */
function clusterSource(spec: Record<string, unknown> | undefined): string {
  const eks = spec?.eks as { name?: unknown; region?: unknown } | undefined;
  if (eks && typeof eks.name === 'string' && typeof eks.region === 'string') return `eks ${eks.region}/${eks.name}`;
  return typeof spec?.source === 'string' ? spec.source : 'kubeconfig';
}

/** The status block the server adds (healthy, unhealthy or unknown). */
function clusterStatus(body: Body): string {
  const status = (body as { status?: { status?: unknown } }).status?.status;
  return typeof status === 'string' ? status : 'unknown';
}

const columns: Record<string, { header: string[]; row: (body: Body) => string[] }> = {
  role: {
    header: ['Role', 'Kubernetes Labels', 'Kubernetes Groups', 'Kubernetes Users', 'Rules'],
    row: (r) => {
      const allow = (r.spec?.allow ?? {}) as Record<string, unknown>;
      const rules = ((allow.rules ?? []) as { resources: string[]; verbs: string[] }[])
        .map((rule) => `${rule.resources.join(',')}:${rule.verbs.join(',')}`)
        .join(' ');
      return [r.metadata.name, labels(allow.kubernetes_labels), list(allow.kubernetes_groups), list(allow.kubernetes_users), rules];
    },
  },
  user: {
    header: ['User', 'Roles', 'Connector'],
    row: (u) => [u.metadata.name, list(u.spec?.roles), userConnector(u.spec)],
  },
  kube_cluster: {
    header: ['Kube Cluster Name', 'Labels', 'Source', 'Status'],
    row: (c) => [c.metadata.name, labels(c.metadata.labels), clusterSource(c.spec), clusterStatus(c)],
  },
  // Teleport's columns; the target in Teleport's form (User:"alice").
  lock: {
    header: ['ID', 'Target', 'Message', 'Expires'],
    row: (l) => [
      l.metadata.name,
      describeTarget((l.spec?.target ?? {}) as LockTarget),
      typeof l.spec?.message === 'string' ? l.spec.message : '',
      String(l.spec?.expires ?? 'never'),
    ],
  },
  github: {
    header: ['Name', 'Display', 'Teams To Roles'],
    row: (g) => [
      g.metadata.name,
      typeof g.spec?.display === 'string' ? g.spec.display : '',
      ((g.spec?.teams_to_roles ?? []) as { organization: string; team: string; roles: string[] }[])
        .map((m) => `${m.organization}/${m.team}:${m.roles.join(',')}`)
        .join(' '),
    ],
  },
};

export function resourceTable(kind: string, items: unknown[]): string {
  const shape = columns[kind] ?? { header: ['Name'], row: (b: Body) => [b.metadata.name] };
  const table = textTable(
    shape.header,
    (items as Body[]).map((item) => shape.row(item)),
  );
  return kind === 'kube_cluster' ? table + unhealthyNotes(items as Body[]) : table;
}

/** Under the clusters table, what is wrong with each unhealthy cluster and what to do (as tsh kube ls prints it). */
function unhealthyNotes(clusters: Body[]): string {
  const notes = clusters.flatMap((c) => {
    const block = (c as { status?: { status?: unknown; reason?: unknown; fix?: unknown } }).status;
    if (block?.status !== 'unhealthy') return [];
    return [unhealthyNote(c.metadata.name, block.reason, block.fix)];
  });
  return notes.length > 0 ? `${notes.join('')}\n` : '';
}
