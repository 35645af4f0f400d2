// The three patch formats kubectl sends (`kubectl patch --type=json|merge|strategic`, and the
// strategic merge patch of client-side `kubectl apply`), applied to a JSON object. Strategic merge
// is merge patch plus its directives; the demo's writable kinds (ConfigMap, Secret) have no list
// with a merge key, so lists are replaced whole, as merge patch does.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Thrown for a patch that cannot be applied; the route answers it with a Status of this code. */
export class PatchError extends Error {
  constructor(
    message: string,
    readonly code: 422 | 400 = 422,
  ) {
    super(message);
  }
}

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** RFC 7386: objects merge key by key, null removes, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/**
 * Strategic merge patch for objects without merge-keyed lists: merge patch, plus `$patch: replace`
 * and `$patch: delete` on a map, `$retainKeys`, and the `$setElementOrder/` and
 * `$deleteFromPrimitiveList/` hints kubectl adds, which only order or trim lists this kind lacks.
 */
export function strategicMergePatch(target: Json, patch: Json): Json | undefined {
  if (!isObject(patch)) return structuredClone(patch);
  const directive = patch.$patch;
  const rest: JsonObject = Object.fromEntries(Object.entries(patch).filter(([key]) => !key.startsWith('$')));
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(rest);
  if (directive !== undefined && directive !== 'merge') throw new PatchError(`unknown patch type: ${JSON.stringify(directive)}`);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys);
    for (const key of Object.keys(result)) if (!keep.has(key)) delete result[key];
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/') || key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice(key.indexOf('/') + 1);
      if (key.startsWith('$deleteFromPrimitiveList/') && Array.isArray(result[field]) && Array.isArray(value)) {
        const drop = new Set(value.map((v) => JSON.stringify(v)));
        result[field] = (result[field] as Json[]).filter((v) => !drop.has(JSON.stringify(v)));
      }
      continue;
    }
    if (key.startsWith('$')) continue;
    if (value === null) delete result[key];
    else {
      const merged = strategicMergePatch(result[key] ?? null, value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    }
  }
  return result;
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (k.startsWith('$') ? [] : [[k, stripDirectives(v)]])));
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

const unescapePointer = (token: string) => token.replace(/~1/g, '/').replace(/~0/g, '~');

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer ${JSON.stringify(path)}: it must start with /`);
  return path.slice(1).split('/').map(unescapePointer);
}

/** The container holding the pointed-at value, and the key in it; the root has no parent. */
function locate(doc: Json, tokens: string[], path: string): { parent: JsonObject | Json[]; key: string } {
  let node: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    node = Array.isArray(node) ? (node[Number(token)] ?? null) : isObject(node) ? (node[token] ?? null) : null;
    if (node === null || typeof node !== 'object') throw new PatchError(`the path ${JSON.stringify(path)} does not exist`);
  }
  return { parent: node as JsonObject | Json[], key: tokens.at(-1)! };
}

function read(doc: Json, path: string): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return doc;
  const { parent, key } = locate(doc, tokens, path);
  const value = Array.isArray(parent) ? parent[Number(key)] : parent[key];
  if (value === undefined) throw new PatchError(`the path ${JSON.stringify(path)} does not exist`);
  return value;
}

function arrayIndex(array: Json[], key: string, path: string, adding: boolean): number {
  if (adding && key === '-') return array.length;
  const index = /^(0|[1-9]\d*)$/.test(key) ? Number(key) : NaN;
  if (!(index >= 0 && index < array.length + (adding ? 1 : 0)))
    throw new PatchError(`the index in ${JSON.stringify(path)} is out of range`);
  return index;
}

function remove(doc: Json, path: string): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const { parent, key } = locate(doc, tokens, path);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, path, false), 1)[0]!;
  if (!(key in parent)) throw new PatchError(`unable to remove nonexistent key: ${key}: missing value`);
  const value = parent[key]!;
  delete parent[key];
  return value;
}

function add(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = locate(doc, tokens, path);
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, key, path, !replace);
    parent.splice(index, replace ? 1 : 0, value);
  } else {
    if (replace && !(key in parent)) throw new PatchError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
    parent[key] = value;
  }
  return doc;
}

/** RFC 6902: add, remove, replace, move, copy and test, in order; any failure fails the whole patch. */
export function jsonPatch(target: Json, operations: unknown): Json {
  if (!Array.isArray(operations)) throw new PatchError('a JSON patch must be a list of operations', 400);
  let doc = structuredClone(target);
  for (const raw of operations as Operation[]) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string')
      throw new PatchError('each JSON patch operation needs "op" and "path"', 400);
    const { op, path } = raw;
    const needsValue = () => {
      if (!('value' in raw)) throw new PatchError(`the ${op} operation at ${JSON.stringify(path)} has no value`, 400);
      return structuredClone(raw.value as Json);
    };
    switch (op) {
      case 'add':
        doc = add(doc, path, needsValue(), false);
        break;
      case 'replace':
        doc = add(doc, path, needsValue(), true);
        break;
      case 'remove':
        remove(doc, path);
        break;
      case 'move':
      case 'copy': {
        const from = String(raw.from ?? '');
        const value = op === 'move' ? remove(doc, from) : structuredClone(read(doc, from));
        doc = add(doc, path, value, false);
        break;
      }
      case 'test':
        if (JSON.stringify(read(doc, path)) !== JSON.stringify(needsValue()))
          throw new PatchError(`testing value ${path} failed: test failed`);
        break;
      default:
        throw new PatchError(`Unexpected kind: ${op}`, 400);
    }
  }
  return doc;
}
