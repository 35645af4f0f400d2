// Expands {{internal.x}} / {{external.x}} templates in role fields with a user's traits.
import type { Traits } from './identity.js';

const expression = /\{\{\s*(internal|external)\s*(?:\.\s*([A-Za-z0-9_]+)|\[\s*"([^"]+)"\s*\])\s*\}\}/;

/** Multi-valued traits give several values; a missing trait drops the entry, as in Teleport. */
export function expandTemplates(values: string[] | undefined, traits: Traits): string[] {
  const out: string[] = [];
  for (const value of values ?? []) {
    const match = expression.exec(value);
    if (!match) {
      out.push(value);
      continue;
    }
    const trait = match[2] ?? match[3]!;
    const prefix = value.slice(0, match.index);
    const suffix = value.slice(match.index + match[0].length);
    for (const traitValue of traits[trait] ?? []) {
      if (traitValue !== '') out.push(`${prefix}${traitValue}${suffix}`);
    }
  }
  return [...new Set(out)];
}
