// fieldSelector on lists and watches, as the API server applies it: terms joined by commas, each
// FIELD=VALUE, FIELD==VALUE or FIELD!=VALUE, all of which must hold. The agent lets a list narrowed
// to metadata.name=X through on a grant for the object X alone, so the demo must narrow it too.
// A field is a dotted path into the object (metadata.name, involvedObject.uid ...); one the object
// lacks reads as empty, as the API server's field sets do.

export interface FieldTerm {
  field: string;
  value: string;
  equal: boolean;
}

/** The terms of a selector, or a message saying why it cannot be parsed. */
export function parseFieldSelector(selector: string): FieldTerm[] | { error: string } {
  const terms: FieldTerm[] = [];
  for (const part of selector.split(',')) {
    if (part === '') continue;
    const match = /^([A-Za-z0-9_.-]+)(!=|==|=)(.*)$/.exec(part);
    if (!match || /[=!,]/.test(match[3]!)) return { error: `invalid selector: '${selector}'; can't understand '${part}'` };
    terms.push({ field: match[1]!, value: match[3]!, equal: match[2] !== '!=' });
  }
  return terms;
}

function fieldValue(object: unknown, path: string): string {
  let value: unknown = object;
  for (const key of path.split('.'))
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

export function matchesFields(object: unknown, terms: FieldTerm[]): boolean {
  return terms.every((term) => (fieldValue(object, term.field) === term.value) === term.equal);
}
