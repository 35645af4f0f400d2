// Teleport's value patterns: `*` globs, or RE2-style regexes when written as ^...$. Each pattern
// is compiled once and kept, so a decision never builds a RegExp.

export type Matcher = (value: string) => boolean;

const compiled = new Map<string, Matcher>();
const MAX_CACHED = 10_000;

const matchAll: Matcher = () => true;

export function isRegexPattern(pattern: string): boolean {
  return pattern.length >= 2 && pattern.startsWith('^') && pattern.endsWith('$');
}

/** Why a pattern cannot be used, or undefined when it can (schemas call this at create time). */
export function patternProblem(pattern: string): string | undefined {
  if (!isRegexPattern(pattern)) return undefined;
  try {
    new RegExp(pattern, 'u');
    return undefined;
  } catch (error) {
    return `"${pattern}" is not a valid regular expression (${(error as Error).message.replace(/^Invalid regular expression: /, '')}); fix it, or write a glob such as "web-*"`;
  }
}

/** A matcher for one pattern; an invalid regex matches nothing (the schema refuses it earlier). */
export function compilePattern(pattern: string): Matcher {
  let matcher = compiled.get(pattern);
  if (matcher) return matcher;
  matcher = build(pattern);
  if (compiled.size >= MAX_CACHED) compiled.clear();
  compiled.set(pattern, matcher);
  return matcher;
}

export function matchesPattern(pattern: string, value: string): boolean {
  return compilePattern(pattern)(value);
}

/** True when the pattern matches every value, so a collection request is wholly covered by it. */
export function coversEverything(pattern: string): boolean {
  return pattern === '*' || pattern === '^.*$' || /^\*+$/.test(pattern);
}

function build(pattern: string): Matcher {
  if (coversEverything(pattern)) return matchAll;
  if (isRegexPattern(pattern)) {
    try {
      const regex = new RegExp(pattern, 'u');
      return (value) => regex.test(value);
    } catch {
      return () => false;
    }
  }
  if (!pattern.includes('*')) return (value) => value === pattern;
  // The common globs without a RegExp: "web-*" and "*-prod".
  const star = pattern.indexOf('*');
  if (star === pattern.length - 1 && star === pattern.lastIndexOf('*')) {
    const prefix = pattern.slice(0, -1);
    return (value) => value.startsWith(prefix);
  }
  if (star === 0 && pattern.lastIndexOf('*') === 0) {
    const suffix = pattern.slice(1);
    return (value) => value.endsWith(suffix);
  }
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 'su');
  return (value) => regex.test(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
