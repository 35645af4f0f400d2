// A lock's target as Teleport prints it (`User:"alice"`), without the schema: tctl's table
// shows it and must not load zod for that.

export interface LockTarget {
  user?: string;
  role?: string;
  login?: string;
  access_request?: string;
}

const FIELDS: [label: string, key: keyof LockTarget][] = [
  ['User', 'user'],
  ['Role', 'role'],
  ['Login', 'login'],
  ['AccessRequest', 'access_request'],
];

/** Teleport's form of a target: `User:"alice"`, fields in Teleport's order. */
export function describeTarget(target: LockTarget): string {
  return FIELDS.flatMap(([label, key]) => (target[key] ? [`${label}:${JSON.stringify(target[key])}`] : [])).join(' ');
}
