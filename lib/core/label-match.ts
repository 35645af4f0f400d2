// Teleport's label selector: every key must match (AND); any listed value may match (OR);
// values are globs, or RE2-style regexes when written as ^...$.

export type LabelSelector = Record<string, string | string[]>;

export function matchesLabels(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  for (const [key, wanted] of Object.entries(selector)) {
    const values = Array.isArray(wanted) ? wanted : [wanted];
    if (key === '*') {
      if (values.includes('*')) continue;
      return false;
    }
    const actual = labels[key];
    if (actual === undefined) return false;
    if (!values.some((pattern) => matchesValue(pattern, actual))) return false;
  }
  return true;
}

export function matchesValue(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('^') && pattern.endsWith('$')) {
    try {
      return new RegExp(pattern, 'u').test(value);
    } catch {
      return false;
    }
  }
  const glob = pattern.split('*').map(escapeRegExp).join('.*');
  return new RegExp(`^${glob}$`, 'su').test(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
