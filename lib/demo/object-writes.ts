// Writes to a writable kind, as the API server answers them: create (POST), update (PUT), the
// four PATCH content types (JSON patch, merge, strategic merge, server-side apply), and delete.
// Every write checks preconditions (resourceVersion, 409 Conflict), the kind's rules (422 Invalid),
// unknown fields under fieldValidation=Strict (400), records field ownership, and with
// dryRun=All changes nothing.
import { parse as parseYaml } from 'yaml';
import { rfc3339 } from './fixtures.js';
import { type Ownership, applyFields, leaves, ownershipFromJson, recordUpdate } from './managed-fields.js';
import type { ApiObject, ObjectStore, StoredMeta } from './object-store.js';
import { type Json, type JsonObject, PATCH_TYPES, PatchError, isObject, jsonPatch, mergePatch, strategicMergePatch } from './patches.js';
import { PROTOBUF, decodeProtobufBody } from './protobuf-body.js';
import { type Reply, json, notFound, q, statusReply } from './replies.js';
import { type RequestContext, readBody } from './routing.js';
import { METADATA_FIELDS, type WritableKind } from './writable-kinds.js';

// The API server's own limit on a request body.
const MAX_BODY = 3 << 20;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface WriteTarget {
  kind: WritableKind;
  store: ObjectStore;
  namespaceExists(namespace: string): boolean;
  now(): number;
}

class WriteError extends Error {
  constructor(readonly reply: Reply) {
    super(reply.body.toString());
  }
}
const fail = (reply: Reply): never => {
  throw new WriteError(reply);
};

const status = (code: number, reason: string, message: string, details: Record<string, unknown>): Reply => {
  const body = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code };
  return { status: code, body: json(body) };
};
const conflict = (t: WriteTarget, name: string) =>
  status(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${t.kind.resource} ${q(name)}: the object has been modified; please apply your changes to the latest version and try again`,
    { name, kind: t.kind.resource },
  );
const invalid = (t: WriteTarget, name: string, problems: string[]) =>
  status(422, 'Invalid', `${t.kind.kind} ${q(name)} is invalid: ${problems.length === 1 ? problems[0] : `[${problems.join(', ')}]`}`, {
    name,
    kind: t.kind.kind,
    causes: problems.map((p) => ({
      reason: 'FieldValueInvalid',
      message: p.slice(p.indexOf(': ') + 2),
      field: p.slice(0, p.indexOf(':')),
    })),
  });

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const parseJsonObject = (text: string): JsonObject => {
  try {
    const value = JSON.parse(text) as Json;
    return isObject(value) ? value : {};
  } catch {
    return {};
  }
};

const flag = (ctx: RequestContext, name: string) => /^(true|1)$/.test(ctx.query.get(name) ?? '');
const dryRun = (ctx: RequestContext) => ctx.query.getAll('dryRun').includes('All');
/** The manager named by fieldManager, else the client's program name, as the API server defaults it. */
const managerOf = (ctx: RequestContext) => ctx.query.get('fieldManager') || (ctx.req.headers['user-agent'] ?? 'unknown').split('/')[0]!;

async function bodyObject(ctx: RequestContext, yaml = false): Promise<Json> {
  const body = await readBody(ctx.req, MAX_BODY);
  const type = ctx.req.headers['content-type'] ?? '';
  try {
    if (type.startsWith(PROTOBUF)) return decodeProtobufBody(body);
    return (yaml || /yaml/.test(type) ? parseYaml(body.toString()) : JSON.parse(body.toString())) as Json;
  } catch (error) {
    return fail(statusReply(400, 'BadRequest', `the request body could not be decoded: ${(error as Error).message}`));
  }
}

/** Kind and apiVersion, when given, must be the kind's; returns the object. */
function asObject(t: WriteTarget, body: Json): JsonObject {
  if (!isObject(body)) return fail(statusReply(400, 'BadRequest', `the request body must be a ${t.kind.kind} object`));
  if ((body.kind !== undefined && body.kind !== t.kind.kind) || (body.apiVersion !== undefined && body.apiVersion !== 'v1'))
    fail(
      statusReply(
        400,
        'BadRequest',
        `the object provided is unrecognized (must be of type ${t.kind.kind}): ${body.apiVersion}, Kind=${body.kind}`,
      ),
    );
  if (!isObject(body.metadata)) body.metadata = {};
  return body;
}

/** What every write checks before it is stored; returns the warnings of fieldValidation=Warn. */
function check(ctx: RequestContext, t: WriteTarget, object: JsonObject, old: ApiObject | undefined): string[] {
  const meta = object.metadata as JsonObject;
  const name = String(meta.name ?? '');
  const unknown = [
    ...Object.keys(object).filter((k) => !['apiVersion', 'kind', 'metadata'].includes(k) && !t.kind.fields.has(k)),
    ...Object.keys(meta)
      .filter((k) => !METADATA_FIELDS.has(k))
      .map((k) => `metadata.${k}`),
  ];
  const validation = ctx.query.get('fieldValidation') ?? 'Warn';
  if (unknown.length > 0 && validation === 'Strict')
    fail(statusReply(400, 'BadRequest', `strict decoding error: ${unknown.map((f) => `unknown field ${q(f)}`).join(', ')}`));
  const problems = t.kind.validate(object);
  if (!NAME.test(name) || name.length > 253)
    problems.unshift(
      name === ''
        ? 'metadata.name: Required value: name or generateName is required'
        : `metadata.name: Invalid value: ${q(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    );
  const same = (field: string) => JSON.stringify(object[field] ?? null) === JSON.stringify(old?.[field] ?? null);
  if (old?.immutable === true && (!same('data') || !same('binaryData') || object.immutable !== true))
    problems.push('data: Forbidden: field is immutable when `immutable` is set');
  if (problems.length > 0) fail(invalid(t, name, problems));
  return validation === 'Warn' ? unknown.map((f) => `unknown field ${q(f)}`) : [];
}

/** Stores (or with dryRun only shapes) the object; 201 for a new one. */
function commit(ctx: RequestContext, t: WriteTarget, object: JsonObject, ownership: Ownership, old: ApiObject | undefined): Reply {
  t.kind.normalize(object);
  const warnings = check(ctx, t, object, old);
  const meta = object.metadata as StoredMeta;
  if (old) {
    meta.uid = old.metadata.uid;
    meta.creationTimestamp = old.metadata.creationTimestamp;
  }
  const stored = dryRun(ctx) ? t.store.preview(object, ownership, t.now()) : t.store.put(object, ownership, t.now());
  for (const warning of warnings) ctx.res.appendHeader('Warning', `299 - ${q(warning)}`);
  return { status: old ? 200 : 201, body: json(stored) };
}

/** Ownership after a write that carried managedFields of its own: those, as the API server takes them. */
function ownershipAfter(old: ApiObject | undefined, ownership: Ownership | undefined, written: JsonObject): Ownership {
  const given = isObject(written.metadata) ? written.metadata.managedFields : undefined;
  const current = old ? JSON.stringify(old.metadata.managedFields ?? null) : 'null';
  const adopted = given !== undefined && JSON.stringify(given) !== current ? ownershipFromJson(given) : undefined;
  return adopted ?? new Map([...(ownership ?? new Map())].map(([k, e]) => [k, { ...e, fields: new Set(e.fields) }]));
}

async function run(write: () => Promise<Reply>): Promise<Reply> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof WriteError) return error.reply;
    if (error instanceof PatchError) return statusReply(error.code, error.code === 422 ? 'Invalid' : 'BadRequest', error.message);
    throw error;
  }
}

export function createObject(ctx: RequestContext, t: WriteTarget, namespace: string): Promise<Reply> {
  return run(async () => {
    if (!t.namespaceExists(namespace)) return notFound('namespaces', namespace);
    const object = asObject(t, await bodyObject(ctx));
    const meta = object.metadata as JsonObject;
    if (meta.namespace !== undefined && meta.namespace !== namespace)
      return statusReply(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    if (!meta.name && typeof meta.generateName === 'string') meta.name = `${meta.generateName}${Math.random().toString(36).slice(2, 7)}`;
    const name = String(meta.name ?? '');
    if (t.store.get(namespace, name))
      return status(409, 'AlreadyExists', `${t.kind.resource} ${q(name)} already exists`, { name, kind: t.kind.resource });
    for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields']) delete meta[field];
    meta.namespace = namespace;
    const ownership: Ownership = new Map();
    recordUpdate(ownership, undefined, object, managerOf(ctx), rfc3339(t.now()));
    return commit(ctx, t, object, ownership, undefined);
  });
}

/** PUT, and the common end of every patch but apply: preconditions, identity, ownership. */
function replace(ctx: RequestContext, t: WriteTarget, namespace: string, name: string, object: JsonObject, old: ApiObject): Reply {
  const meta = object.metadata as JsonObject;
  if (meta.name !== name)
    return statusReply(
      400,
      'BadRequest',
      `the name of the object (${String(meta.name ?? '')}) does not match the name on the URL (${name})`,
    );
  if (meta.namespace !== undefined && meta.namespace !== namespace)
    return statusReply(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
  if (meta.resourceVersion !== undefined && meta.resourceVersion !== '' && meta.resourceVersion !== old.metadata.resourceVersion)
    return conflict(t, name);
  meta.namespace = namespace;
  const ownership = ownershipAfter(old, t.store.get(namespace, name)?.ownership, object);
  delete meta.managedFields;
  recordUpdate(ownership, old, object, managerOf(ctx), rfc3339(t.now()));
  return commit(ctx, t, object, ownership, old);
}

export function updateObject(ctx: RequestContext, t: WriteTarget, namespace: string, name: string): Promise<Reply> {
  return run(async () => {
    const object = asObject(t, await bodyObject(ctx));
    const old = t.store.get(namespace, name)?.object;
    if (!old) return notFound(t.kind.resource, name);
    return replace(ctx, t, namespace, name, object, old);
  });
}

export function patchObject(ctx: RequestContext, t: WriteTarget, namespace: string, name: string): Promise<Reply> {
  return run(async () => {
    const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (type === PATCH_TYPES.apply) return apply(ctx, t, namespace, name, await bodyObject(ctx, true));
    if (![PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic].includes(type as never))
      return statusReply(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${Object.values(PATCH_TYPES).join(', ')}`,
      );
    const patch = await bodyObject(ctx);
    const old = t.store.get(namespace, name)?.object;
    if (!old) return notFound(t.kind.resource, name);
    const current = structuredClone(old) as JsonObject;
    const patched =
      type === PATCH_TYPES.json
        ? jsonPatch(current, patch)
        : type === PATCH_TYPES.merge
          ? mergePatch(current, patch)
          : strategicMergePatch(current, patch);
    return replace(ctx, t, namespace, name, asObject(t, patched ?? null), old);
  });
}

/** Server-side apply: creates the object when missing, else merges what the manager owns. */
function apply(ctx: RequestContext, t: WriteTarget, namespace: string, name: string, body: Json): Reply {
  const manager = ctx.query.get('fieldManager');
  if (!manager) return statusReply(400, 'BadRequest', 'PATCH, application/apply-patch+yaml requires fieldManager to be set');
  const applied = asObject(t, body);
  const meta = applied.metadata as JsonObject;
  if (meta.name !== undefined && meta.name !== name)
    return statusReply(400, 'BadRequest', `the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
  if (meta.namespace !== undefined && meta.namespace !== namespace)
    return statusReply(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
  const existing = t.store.get(namespace, name);
  if (!existing && !t.namespaceExists(namespace)) return notFound('namespaces', namespace);
  const old = existing?.object;
  if (old && meta.resourceVersion !== undefined && meta.resourceVersion !== old.metadata.resourceVersion) return conflict(t, name);
  const ownership = ownershipAfter(old, existing?.ownership, {});
  const lastApplied = old?.metadata.annotations?.[LAST_APPLIED];
  const takeOver = new Set(lastApplied ? leaves(parseJsonObject(lastApplied)).keys() : []);
  const result = applyFields(ownership, old as JsonObject | undefined, applied, manager, flag(ctx, 'force'), rfc3339(t.now()), takeOver);
  if ('conflicts' in result) {
    const { conflicts } = result;
    const byManager = [...new Set(conflicts.map((c) => c.manager))];
    const message =
      conflicts.length === 1
        ? `Apply failed with 1 conflict: conflict with ${q(conflicts[0]!.manager)} using v1: ${conflicts[0]!.field}`
        : `Apply failed with ${conflicts.length} conflicts: ${byManager
            .map(
              (m) =>
                `conflicts with ${q(m)} using v1:\n${conflicts
                  .filter((c) => c.manager === m)
                  .map((c) => `- ${c.field}`)
                  .join('\n')}`,
            )
            .join('\n')}`;
    return status(409, 'Conflict', message, {
      causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${q(c.manager)} using v1`, field: c.field })),
    });
  }
  const object = result.object;
  const objectMeta = (isObject(object.metadata) ? object.metadata : (object.metadata = {})) as JsonObject;
  objectMeta.name = name;
  objectMeta.namespace = namespace;
  delete objectMeta.managedFields;
  // The annotation follows what was applied, so a later client-side apply starts from it.
  const annotations = objectMeta.annotations;
  if (isObject(annotations) && typeof annotations[LAST_APPLIED] === 'string') {
    const appliedMeta = { ...(applied.metadata as JsonObject) };
    delete appliedMeta.managedFields;
    annotations[LAST_APPLIED] = `${JSON.stringify({ ...applied, metadata: { ...appliedMeta, name, namespace } })}\n`;
  }
  return commit(ctx, t, object, ownership, old);
}

export function deleteObject(ctx: RequestContext, t: WriteTarget, namespace: string, name: string): Promise<Reply> {
  return run(async () => {
    const text = (await readBody(ctx.req, MAX_BODY)).toString();
    let options: JsonObject = {};
    try {
      if (text.trim()) options = asDeleteOptions(JSON.parse(text) as Json);
    } catch {
      return statusReply(400, 'BadRequest', 'the request body is not valid DeleteOptions');
    }
    const existing = t.store.get(namespace, name)?.object;
    if (!existing) return notFound(t.kind.resource, name);
    const pre = isObject(options.preconditions) ? options.preconditions : {};
    if (pre.uid !== undefined && pre.uid !== null && pre.uid !== existing.metadata.uid)
      return status(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${String(pre.uid)}, UID in object meta: ${existing.metadata.uid}`,
        {
          name,
          kind: t.kind.resource,
        },
      );
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== null && pre.resourceVersion !== existing.metadata.resourceVersion)
      return conflict(t, name);
    const dry = dryRun(ctx) || (Array.isArray(options.dryRun) && options.dryRun.includes('All'));
    if (!dry) t.store.remove(namespace, name);
    const body = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, kind: t.kind.resource, uid: existing.metadata.uid },
    };
    return { status: 200, body: json(body) };
  });
}

const asDeleteOptions = (value: Json): JsonObject => (isObject(value) ? value : {});

/** For tests and the demo: an object as if created by `manager`, bypassing HTTP. */
export function seedObject(t: WriteTarget, object: JsonObject, manager = 'kubectl-create'): ApiObject {
  const ownership: Ownership = new Map();
  recordUpdate(ownership, undefined, object, manager, rfc3339(t.now()));
  t.kind.normalize(object);
  return t.store.put(object, ownership, t.now());
}
