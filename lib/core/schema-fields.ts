// The field names a schema accepts at a place in a document, read from the zod schema itself, so
// suggestions follow the schemas as they change (role versions, new kinds) without a second list.
import type * as z from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  out?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  getter?: () => z.ZodType;
  catchall?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas a value at `path` may be checked against (several for unions). */
function schemasAt(schema: z.ZodType, path: readonly PropertyKey[], depth = 0): z.ZodType[] {
  if (depth > 64) return [];
  const def = defOf(schema);
  const next = (inner: z.ZodType | undefined, rest = path) => (inner ? schemasAt(inner, rest, depth + 1) : []);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return next(def.innerType);
    case 'pipe':
      return [...next(def.in), ...next(def.out)];
    case 'lazy':
      return next(def.getter?.());
    case 'union':
      return (def.options ?? []).flatMap((option) => next(option));
    case 'intersection':
      return [...next(def.left), ...next(def.right)];
    default:
      break;
  }
  if (path.length === 0) return [schema];
  const [head, ...rest] = path;
  if (def.type === 'object') return next(def.shape?.[String(head)], rest);
  if (def.type === 'array') return next(def.element, rest);
  if (def.type === 'record') return next(def.valueType, rest);
  return [];
}

/** Every field name an object at `path` may have; empty when the place is not an object. */
export function fieldsAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const names = new Set<string>();
  for (const found of schemasAt(schema, path)) {
    const def = defOf(found);
    if (def.type === 'object') for (const key of Object.keys(def.shape ?? {})) names.add(key);
  }
  return [...names];
}

/**
 * Fields of `document` that a plain (non-strict) object schema would drop without a word: a typo
 * there would silently lose what the person wrote. Strict objects report their own unknown keys,
 * and loose ones keep them on purpose, so both are left alone.
 */
export function droppedFields(schema: z.ZodType, document: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(document)) return document.flatMap((item, index) => droppedFields(schema, item, [...path, index]));
  if (typeof document !== 'object' || document === null) return [];
  const objects = schemasAt(schema, path)
    .map(defOf)
    .filter((def) => def.type === 'object');
  const known = new Set(objects.flatMap((def) => Object.keys(def.shape ?? {})));
  const stripping = objects.length > 0 && objects.every((def) => def.catchall === undefined);
  return Object.entries(document).flatMap(([key, value]) => {
    const here = [...path, key];
    if (stripping && !known.has(key)) return [here];
    return droppedFields(schema, value, here);
  });
}
