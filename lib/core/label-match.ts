// Teleport's label selector: every key must match (AND); any listed value may match (OR);
// values are globs, or RE2-style regexes when written as ^...$ (patterns.ts).
import { type Matcher, compilePattern, matchesPattern } from './patterns.js';

export type LabelSelector = Record<string, string | string[]>;
export type LabelsMatcher = (labels: Record<string, string>) => boolean;

const matchNothing: LabelsMatcher = () => false;

/** Why a selector cannot be used (a `*` key with another value, an invalid regex), else undefined. */
export function selectorProblem(selector: LabelSelector): { key: string; message: string } | undefined {
  for (const [key, wanted] of Object.entries(selector)) {
    const values = Array.isArray(wanted) ? wanted : [wanted];
    if (key === '*' && values.some((value) => value !== '*')) {
      return { key, message: `selector *:${values.join(',')} is not supported; write '*': '*' to match every cluster` };
    }
  }
  return undefined;
}

/** Compiles a selector once; an empty or missing selector matches no cluster, as in Teleport. */
export function compileSelector(selector: LabelSelector | undefined): LabelsMatcher {
  if (!selector) return matchNothing;
  const keys = Object.entries(selector).map(([key, wanted]) => {
    const values = Array.isArray(wanted) ? wanted : [wanted];
    return { key, wildcard: key === '*' && values.includes('*'), matchers: values.map(compilePattern) };
  });
  if (keys.length === 0) return matchNothing;
  return (labels) => {
    for (const { key, wildcard, matchers } of keys) {
      if (wildcard) continue;
      if (key === '*') return false;
      const actual = labels[key];
      if (actual === undefined || !anyMatches(matchers, actual)) return false;
    }
    return true;
  };
}

export function matchesLabels(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  return compileSelector(selector)(labels);
}

export function matchesValue(pattern: string, value: string): boolean {
  return matchesPattern(pattern, value);
}

function anyMatches(matchers: Matcher[], value: string): boolean {
  for (const matcher of matchers) if (matcher(value)) return true;
  return false;
}
