// Field ownership, as server-side apply keeps it in metadata.managedFields: which manager set
// which field. A field is a path to a leaf (maps are granular, lists atomic). Writes other than
// apply take the fields they change; an apply owns exactly what it sent, conflicts with other
// owners of a field it sets to a different value unless forced, and removes what it sent last
// time but not now (when no one else owns it). Simplified from the API server: no 'k:'/'v:' list
// items, one API version.
import { type Json, type JsonObject, isObject } from './patches.js';

export interface ManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  time: string;
  /** Paths as JSON arrays of keys. */
  fields: Set<string>;
}

/** Keyed by manager and operation, as the API server keeps one entry for each. */
export type Ownership = Map<string, ManagerEntry>;

// Fields the server sets or that name the object: nobody owns them.
const SERVER_FIELDS = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'managedFields',
  'generation',
  'selfLink',
]);

/** Every leaf of the object, path (JSON) -> value. */
export function leaves(object: JsonObject): Map<string, Json> {
  const out = new Map<string, Json>();
  const walk = (value: Json, path: string[]) => {
    if (isObject(value) && Object.keys(value).length > 0) {
      for (const [key, child] of Object.entries(value)) {
        if (path.length === 0 && (key === 'apiVersion' || key === 'kind')) continue;
        if (path.length === 1 && path[0] === 'metadata' && SERVER_FIELDS.has(key)) continue;
        walk(child, [...path, key]);
      }
    } else if (path.length > 0) out.set(JSON.stringify(path), value);
  };
  walk(object, []);
  return out;
}

const same = (a: Json | undefined, b: Json | undefined) => JSON.stringify(a) === JSON.stringify(b);

/** After a write other than apply: `manager` owns what changed, and the others lose it. */
export function recordUpdate(ownership: Ownership, before: JsonObject | undefined, after: JsonObject, manager: string, time: string): void {
  const old = before ? leaves(before) : new Map<string, Json>();
  const now = leaves(after);
  const changed = [...now].filter(([path, value]) => !same(old.get(path), value)).map(([path]) => path);
  const removed = [...old.keys()].filter((path) => !now.has(path));
  for (const entry of ownership.values()) for (const path of [...changed, ...removed]) entry.fields.delete(path);
  if (changed.length > 0) {
    const key = `${manager}\0Update`;
    const entry = ownership.get(key) ?? { manager, operation: 'Update', time, fields: new Set<string>() };
    for (const path of changed) entry.fields.add(path);
    entry.time = time;
    ownership.set(key, entry);
  }
  prune(ownership);
}

export interface ApplyConflict {
  manager: string;
  /** As the API server prints it: .data.key */
  field: string;
}

const dotted = (path: string) =>
  (JSON.parse(path) as string[]).map((key) => (/^[A-Za-z0-9_-]+$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`)).join('');

/**
 * Server-side apply of `applied` by `manager` onto `current` (undefined: the object is new). Returns
 * the new object, or the conflicts when another manager owns a field set here to a different value
 * and `force` is off; with force the fields change owner. Fields in `takeOver` change owner
 * without conflict: the API server does so for what the client-side apply annotation holds, so
 * that moving from `kubectl apply` to `kubectl apply --server-side` needs no --force-conflicts.
 */
export function applyFields(
  ownership: Ownership,
  current: JsonObject | undefined,
  applied: JsonObject,
  manager: string,
  force: boolean,
  time: string,
  takeOver: ReadonlySet<string> = new Set(),
): { object: JsonObject } | { conflicts: ApplyConflict[] } {
  const base = structuredClone(current ?? {});
  const existing = leaves(base);
  const wanted = leaves(applied);
  const key = `${manager}\0Apply`;
  const others = [...ownership].filter(([k]) => k !== key).map(([, entry]) => entry);
  const conflicts: ApplyConflict[] = [];
  for (const [path, value] of wanted) {
    if (!existing.has(path) || same(existing.get(path), value) || takeOver.has(path)) continue;
    for (const entry of others) if (entry.fields.has(path)) conflicts.push({ manager: entry.manager, field: dotted(path) });
  }
  if (conflicts.length > 0 && !force) return { conflicts };
  for (const entry of others)
    for (const path of wanted.keys())
      if ((force || takeOver.has(path)) && !same(existing.get(path), wanted.get(path))) entry.fields.delete(path);

  // What this manager applied before and no longer does goes, unless someone else still owns it.
  const previous = ownership.get(key)?.fields ?? new Set<string>();
  for (const path of previous) {
    if (wanted.has(path) || others.some((entry) => entry.fields.has(path))) continue;
    removePath(base, JSON.parse(path) as string[]);
  }
  for (const [path, value] of wanted) setPath(base, JSON.parse(path) as string[], structuredClone(value));
  for (const field of ['apiVersion', 'kind'] as const) if (applied[field] !== undefined) base[field] = applied[field];
  ownership.set(key, { manager, operation: 'Apply', time, fields: new Set(wanted.keys()) });
  prune(ownership);
  return { object: base };
}

function setPath(object: JsonObject, path: string[], value: Json): void {
  let node = object;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as JsonObject;
  }
  node[path.at(-1)!] = value;
}

/** Removes the leaf, and the maps it leaves empty. */
function removePath(object: JsonObject, path: string[]): void {
  const parents: JsonObject[] = [object];
  for (const key of path.slice(0, -1)) {
    const next = parents.at(-1)![key];
    if (!isObject(next)) return;
    parents.push(next);
  }
  delete parents.at(-1)![path.at(-1)!];
  for (let i = parents.length - 1; i > 0; i--) {
    if (Object.keys(parents[i]!).length > 0) break;
    delete parents[i - 1]![path[i - 1]!];
  }
}

function prune(ownership: Ownership): void {
  for (const [key, entry] of ownership) if (entry.fields.size === 0) ownership.delete(key);
}

/** metadata.managedFields as the API server writes it (FieldsV1: {"f:data":{"f:key":{}}}). */
export function managedFieldsJson(ownership: Ownership): Json[] {
  return [...ownership.values()].map((entry) => {
    const fieldsV1: JsonObject = {};
    for (const path of entry.fields) {
      let node = fieldsV1;
      for (const key of JSON.parse(path) as string[]) node = (node[`f:${key}`] ??= {}) as JsonObject;
    }
    return { manager: entry.manager, operation: entry.operation, apiVersion: 'v1', time: entry.time, fieldsType: 'FieldsV1', fieldsV1 };
  });
}

/**
 * Ownership read back from managedFields a client wrote (kubectl apply --server-side rewrites
 * the client-side apply entry this way when it takes over); undefined when it is not a list.
 */
export function ownershipFromJson(value: Json | undefined): Ownership | undefined {
  if (!Array.isArray(value)) return undefined;
  const ownership: Ownership = new Map();
  for (const item of value) {
    if (!isObject(item) || typeof item.manager !== 'string') continue;
    const operation = item.operation === 'Apply' ? 'Apply' : 'Update';
    const fields = new Set<string>();
    const walk = (node: Json | undefined, path: string[]) => {
      const children = isObject(node) ? Object.keys(node).filter((k) => k.startsWith('f:')) : [];
      // A list item ('k:', 'v:', 'i:') is owned with its list here: lists are atomic.
      if (children.length === 0) {
        if (path.length > 0) fields.add(JSON.stringify(path));
        return;
      }
      for (const child of children) walk((node as JsonObject)[child], [...path, child.slice(2)]);
    };
    walk(item.fieldsV1 ?? undefined, []);
    ownership.set(`${item.manager}\0${operation}`, {
      manager: item.manager,
      operation,
      time: typeof item.time === 'string' ? item.time : '',
      fields,
    });
  }
  return ownership;
}
