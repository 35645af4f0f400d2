// labelSelector on lists and watches (kubectl get -l): terms joined by commas, each KEY, !KEY,
// KEY=VALUE, KEY==VALUE, KEY!=VALUE, KEY in (A,B) or KEY notin (A,B), all of which must hold.

type Term = { key: string; op: 'exists' | 'absent' | 'in' | 'notin'; values: string[] };

const TERM = /^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9_.-]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$/;

/** The terms of a selector, or a message saying why it cannot be parsed. */
export function parseLabelSelector(selector: string): Term[] | { error: string } {
  const terms: Term[] = [];
  // Commas inside "in (a,b)" do not separate terms.
  for (const part of selector.match(/[^,(]+(\([^)]*\))?[^,]*/g) ?? []) {
    if (part.trim() === '') continue;
    const m = TERM.exec(part);
    if (!m || (m[1] && (m[3] || m[5])))
      return { error: `unable to parse requirement: found '${part.trim()}', expected: valid label selector` };
    const [, not, key = '', eq, value = '', set, list = ''] = m;
    if (eq) terms.push({ key, op: eq === '!=' ? 'notin' : 'in', values: [value] });
    else if (set) terms.push({ key, op: set as 'in' | 'notin', values: list.split(',').map((v) => v.trim()) });
    else terms.push({ key, op: not ? 'absent' : 'exists', values: [] });
  }
  return terms;
}

export function matchesLabels(labels: Record<string, string> | undefined, terms: Term[]): boolean {
  return terms.every(({ key, op, values }) => {
    const value = labels?.[key];
    if (op === 'exists') return value !== undefined;
    if (op === 'absent') return value === undefined;
    if (op === 'in') return value !== undefined && values.includes(value);
    return value === undefined || !values.includes(value);
  });
}
