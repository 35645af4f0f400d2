// The kinds kubectl users can write to on the stand-in, ConfigMap and Secret: what each accepts
// (for fieldValidation=Strict), how it is checked (the API server's wording), and its Table columns.
import type { ApiObject } from './object-store.js';
import { type Json, type JsonObject, isObject } from './patches.js';
import { type Column, humanAge } from './tables.js';

export interface WritableKind {
  kind: 'ConfigMap' | 'Secret';
  resource: 'configmaps' | 'secrets';
  /** Top-level fields besides apiVersion, kind and metadata. */
  fields: Set<string>;
  columns: Column<ApiObject>[];
  /** Rewrites write-only fields (a Secret's stringData) into stored ones. */
  normalize(object: JsonObject): void;
  /** Field errors, as "path: Reason: detail". */
  validate(object: JsonObject): string[];
}

export const METADATA_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'labels',
  'annotations',
  'managedFields',
  'generation',
  'ownerReferences',
  'finalizers',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
]);

const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function checkKeys(map: Json | undefined, field: string, value: (v: Json) => string | undefined): string[] {
  if (map === undefined || map === null) return [];
  if (!isObject(map)) return [`${field}: Invalid value: must be a map of keys to values`];
  return Object.entries(map).flatMap(([key, v]) => {
    const problems: string[] = [];
    if (!DATA_KEY.test(key) || key.length > 253)
      problems.push(
        `${field}[${key}]: Invalid value: ${JSON.stringify(key)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
      );
    const wrong = value(v);
    if (wrong) problems.push(`${field}[${key}]: ${wrong}`);
    return problems;
  });
}

const dataCount = (o: ApiObject) =>
  String(Object.keys((o.data as JsonObject | undefined) ?? {}).length + Object.keys((o.binaryData as JsonObject | undefined) ?? {}).length);
const nameColumn: Column<ApiObject> = { name: 'Name', format: 'name', cell: (o) => o.metadata.name };
const ageColumn: Column<ApiObject> = { name: 'Age', cell: (o, now) => humanAge(o.metadata.creationTimestamp, now) };

const isString = (v: Json) => (typeof v === 'string' ? undefined : 'Invalid value: must be a string');
const isBase64 = (v: Json) => (typeof v === 'string' && BASE64.test(v) ? undefined : 'Invalid value: must be base64-encoded bytes');

export const configMapKind: WritableKind = {
  kind: 'ConfigMap',
  resource: 'configmaps',
  fields: new Set(['data', 'binaryData', 'immutable']),
  columns: [nameColumn, { name: 'Data', cell: dataCount }, ageColumn],
  normalize: () => undefined,
  validate: (o) => {
    const problems = [...checkKeys(o.data, 'data', isString), ...checkKeys(o.binaryData, 'binaryData', isBase64)];
    const both = Object.keys((o.data as JsonObject | undefined) ?? {}).filter((k) => k in ((o.binaryData as JsonObject | undefined) ?? {}));
    for (const key of both) problems.push(`data[${key}]: Invalid value: ${JSON.stringify(key)}: duplicate of key present in binaryData`);
    return problems;
  },
};

export const secretKind: WritableKind = {
  kind: 'Secret',
  resource: 'secrets',
  fields: new Set(['data', 'stringData', 'type', 'immutable']),
  columns: [nameColumn, { name: 'Type', cell: (o) => String(o.type ?? 'Opaque') }, { name: 'Data', cell: dataCount }, ageColumn],
  normalize: (o) => {
    o.type ??= 'Opaque';
    if (isObject(o.stringData)) {
      const data = isObject(o.data) ? o.data : {};
      for (const [key, value] of Object.entries(o.stringData)) data[key] = Buffer.from(String(value)).toString('base64');
      o.data = data;
    }
    delete o.stringData;
  },
  validate: (o) => checkKeys(o.data, 'data', isBase64),
};

export const writableKinds = [configMapKind, secretKind];
