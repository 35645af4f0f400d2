// Teleport's value patterns: `*` globs, or RE2 regexes when written as ^...$. Each pattern is
// compiled once and kept. Neither form backtracks: regexes run on a linear-time RE2 engine
// (linear-regex.ts) and globs are matched segment by segment, so no value a user sends can make
// a decision slow.
import { type LinearRegex, compileLinearRegex } from './linear-regex.js';

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
    compileLinearRegex(pattern);
    return undefined;
  } catch (error) {
    return `"${pattern}" is not a valid regular expression (${(error as Error).message}); fix it, or write a glob such as "web-*"`;
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
    let regex: LinearRegex;
    try {
      regex = compileLinearRegex(pattern);
    } catch {
      return () => false;
    }
    return (value) => regex.test(value);
  }
  if (!pattern.includes('*')) return (value) => value === pattern;
  const segments = pattern.split('*');
  const prefix = segments[0]!;
  const suffix = segments[segments.length - 1]!;
  const middle = segments.slice(1, -1).filter((segment) => segment !== '');
  const fixed = prefix.length + suffix.length;
  return (value) => {
    if (value.length < fixed || !value.startsWith(prefix) || !value.endsWith(suffix)) return false;
    // Each `*` takes as little as it can: the leftmost place for each middle segment is the right
    // one (a later place only leaves less room for the rest), so one pass decides, in no more
    // steps than indexOf takes, with no backtracking.
    const end = value.length - suffix.length;
    let at = prefix.length;
    for (let i = 0; i < middle.length; i++) {
      const found = value.indexOf(middle[i]!, at);
      if (found < 0 || found + middle[i]!.length > end) return false;
      at = found + middle[i]!.length;
    }
    return true;
  };
}
