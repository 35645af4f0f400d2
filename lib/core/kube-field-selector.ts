// The one thing the agent reads from a field selector: the object name a list or watch is
// narrowed to (fieldSelector=metadata.name=NAME), read as the API server's field-selector parser
// reads it (k8s.io/apimachinery, pkg/fields/selector.go). The API server applies the whole
// selector to the result, so a name found here is a name the answer is limited to.

/**
 * The name `fieldSelector` requires, or '' when it requires none or does not parse (the API
 * server then treats the request as an unnarrowed list, and its list handler refuses it).
 * Other list options that fail to parse (labelSelector, limit) also make that handler refuse
 * the request, so they cannot widen what a name allows and are not parsed again here.
 */
export function namedBySelector(query: URLSearchParams): string {
  const selector = query.get('fieldSelector');
  if (selector === null) return '';
  const terms = parseSelector(selector);
  const name = terms?.find((term) => term.equals && term.field === 'metadata.name')?.value;
  return name !== undefined && isValidPathSegmentName(name) ? name : '';
}

interface Term {
  field: string;
  /** false for "!=". */
  equals: boolean;
  value: string;
}

/** Terms in the parser's order (sorted by their text), or undefined when the selector is invalid. */
function parseSelector(selector: string): Term[] | undefined {
  const terms: Term[] = [];
  for (const part of splitTerms(selector).sort(byCodePoint)) {
    if (part === '') continue;
    const term = splitTerm(part);
    if (!term) return undefined;
    const value = unescapeValue(term.rhs);
    if (value === undefined) return undefined;
    terms.push({ field: term.lhs, equals: term.op !== '!=', value });
  }
  return terms;
}

/** Splits on commas that are not escaped with a backslash. */
function splitTerms(selector: string): string[] {
  if (selector === '') return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** The field name has no escapes: the first operator splits ("!=" and "==" before "="). */
function splitTerm(term: string): { lhs: string; op: string; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '=']) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

/** Values escape "\", "," and "=" with a backslash; any other escape, or a bare "," or "=", is invalid. */
function unescapeValue(value: string): string | undefined {
  let out = '';
  let escaped = false;
  for (const c of value) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') return undefined;
      out += c;
      escaped = false;
    } else if (c === '\\') escaped = true;
    else if (c === ',' || c === '=') return undefined;
    else out += c;
  }
  return escaped ? undefined : out;
}

/** A name the API server would accept as a path segment. */
function isValidPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/** Byte order of the UTF-8 encodings, as Go sorts strings: code point order. */
function byCodePoint(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = left[i]!.codePointAt(0)! - right[i]!.codePointAt(0)!;
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}
