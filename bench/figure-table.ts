// One compact table per figure: the agent's value beside the direct path's and nginx's measured in
// the same run, the ratios, the aim and whether it was met.
import type { PathName } from './kube-paths.js';

export interface FigureRow {
  /** What was measured, e.g. 'exec WebSocket, kubectl'. */
  what: string;
  unit: string;
  values: Partial<Record<PathName, number>>;
  /** The aim in words, and its check (undefined: not checkable, e.g. a path is missing). */
  aim?: { text: string; met(values: Partial<Record<PathName, number>>): boolean | undefined };
  /** Anything that went wrong in this row (failures, a bound that was hit). */
  note?: string;
}

const fmt = (value: number | undefined) =>
  value === undefined ? '-' : Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? '-' : (a / b).toFixed(2));

/** Prints the table; counts aims met and missed, and rows whose measurement failed (a note starting FAILED). */
export function printFigure(title: string, rows: FigureRow[], footnotes: string[] = []): { met: number; missed: number; failed: number } {
  console.log(`\n${title}`);
  const header = ['', 'unit', 'direct', 'agent', 'nginx', 'agent/direct', 'agent/nginx', 'aim', ''];
  const lines = rows.map((row) => {
    const verdict = row.aim?.met(row.values);
    return [
      row.what,
      row.unit,
      fmt(row.values.direct),
      fmt(row.values.agent),
      fmt(row.values.nginx),
      ratio(row.values.agent, row.values.direct),
      ratio(row.values.agent, row.values.nginx),
      row.aim?.text ?? '',
      row.aim ? (verdict === undefined ? 'NOT CHECKED' : verdict ? 'MET' : 'MISSED') : '',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 || i >= 7 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(render(header));
  for (const line of lines) console.log(render(line));
  for (const row of rows) if (row.note) console.log(`  ${row.what}: ${row.note}`);
  for (const note of footnotes) console.log(`  ${note}`);
  let met = 0;
  let missed = 0;
  for (const row of rows) {
    const verdict = row.aim?.met(row.values);
    if (verdict === true) met++;
    else if (verdict === false) missed++;
  }
  return { met, missed, failed: rows.filter((row) => row.note?.startsWith('FAILED')).length };
}

/** Throughput aims of issue 7: at least nginx's, and at least 0.9 of direct. */
export const throughputAim = {
  text: '>= nginx, >= 0.9 x direct',
  met: (v: Partial<Record<PathName, number>>) =>
    v.agent === undefined || v.direct === undefined || v.nginx === undefined ? undefined : v.agent >= v.nginx && v.agent >= 0.9 * v.direct,
};

/** Times (lower is better): no worse than nginx's. */
export const timeAim = {
  text: '<= nginx',
  met: (v: Partial<Record<PathName, number>>) => (v.agent === undefined || v.nginx === undefined ? undefined : v.agent <= v.nginx),
};
