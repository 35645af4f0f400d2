// Tables (`as=Table`): the columns kubectl prints for pods, namespaces and secrets, AGE as kubectl writes it.
import type { KubeObject, Listed } from './fixtures.js';
import { json } from './replies.js';

// Same thresholds as kubectl's AGE column, so printed tables look familiar.
export function humanAge(fromIso: string, nowMs: number): string {
  const s = Math.floor((nowMs - Date.parse(fromIso)) / 1000);
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  return d < 365 * 2 ? `${d}d` : `${Math.floor(d / 365)}y`;
}

export interface Column<T extends Listed = KubeObject> {
  name: string;
  format?: string;
  /** >0: shown only with -o wide. */
  priority?: number;
  cell: (o: T, nowMs: number) => string;
}

export function tableBody<T extends Listed>(columns: Column<T>[], objects: T[], listMeta: Record<string, unknown>): Buffer {
  const now = Date.now();
  return json({
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: 'string',
      format: c.format ?? '',
      description: '',
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o, now)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  });
}

const nameColumn: Column = { name: 'Name', format: 'name', cell: (o) => o.metadata.name };
const ageColumn: Column = { name: 'Age', cell: (o, now) => humanAge(o.metadata.creationTimestamp, now) };
const containerStatuses = (o: KubeObject) => o.status.containerStatuses as Array<{ ready: boolean; restartCount: number }>;

export const podColumns: Column[] = [
  nameColumn,
  { name: 'Ready', cell: (o) => `${containerStatuses(o).filter((c) => c.ready).length}/${containerStatuses(o).length}` },
  { name: 'Status', cell: (o) => String(o.status.phase) },
  { name: 'Restarts', cell: (o) => String(containerStatuses(o).reduce((n, c) => n + c.restartCount, 0)) },
  ageColumn,
  { name: 'IP', priority: 1, cell: (o) => String(o.status.podIP) },
  { name: 'Node', priority: 1, cell: (o) => String(o.spec.nodeName) },
];
export const namespaceColumns: Column[] = [nameColumn, { name: 'Status', cell: (o) => String(o.status.phase) }, ageColumn];
