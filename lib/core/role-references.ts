// Where a resource names roles: a user's roles, a connector's team mappings, a role's request and
// review lists. tctl create refuses names that exist nowhere, since a typo there grants nothing
// and fails silently at login.
import type { FieldPath } from './resource-problems.js';

export interface RoleReference {
  path: FieldPath;
  role: string;
}

const placesByKind: Record<string, string[][]> = {
  user: [['spec', 'roles']],
  github: [
    ['spec', 'teams_to_roles', '*', 'roles'],
    // Teleport's legacy mapping: `logins` there are role names.
    ['spec', 'teams_to_logins', '*', 'logins'],
  ],
  role: ['allow', 'deny'].flatMap((side) => [
    ['spec', side, 'request', 'roles'],
    ['spec', side, 'request', 'search_as_roles'],
    ['spec', side, 'review_requests', 'roles'],
    ['spec', side, 'impersonate', 'roles'],
  ]),
};

/** Globs, regular expressions and templates match names rather than name one. */
const isLiteral = (name: string) => !/[*?{}^$]/.test(name);

function collect(value: unknown, place: string[], path: FieldPath, found: RoleReference[]): void {
  if (place.length === 0) {
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        if (typeof item === 'string' && isLiteral(item)) found.push({ path: [...path, index], role: item });
      });
    }
    return;
  }
  const [head, ...rest] = place;
  if (head === '*') {
    if (Array.isArray(value)) value.forEach((item, index) => collect(item, rest, [...path, index], found));
    return;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    collect((value as Record<string, unknown>)[head!], rest, [...path, head!], found);
  }
}

export function roleReferences(kind: string, resource: unknown): RoleReference[] {
  const found: RoleReference[] = [];
  for (const place of placesByKind[kind] ?? []) collect(resource, place, [], found);
  return found;
}
