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
  const keys: string[] = [];
  const matchers: Matcher[] = [];
  for (const [key, wanted] of Object.entries(selector)) {
    const values = Array.isArray(wanted) ? wanted : [wanted];
    if (key === '*') {
      if (values.includes('*')) continue;
      return matchNothing;
    }
    keys.push(key);
    matchers.push(anyOf(values.map(compilePattern)));
  }
  if (Object.keys(selector).length === 0) return matchNothing;
  const count = keys.length;
  if (count === 0) return matchEverything;
  // Indexed loops over flat arrays: this runs for every role on every request.
  return (labels) => {
    for (let i = 0; i < count; i++) {
      const actual = labels[keys[i]!];
      if (actual === undefined || !matchers[i]!(actual)) return false;
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

const matchEverything: LabelsMatcher = () => true;

function anyOf(matchers: Matcher[]): Matcher {
  if (matchers.length === 1) return matchers[0]!;
  return (value) => {
    for (let i = 0; i < matchers.length; i++) if (matchers[i]!(value)) return true;
    return false;
  };
}
