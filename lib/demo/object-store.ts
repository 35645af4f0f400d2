// The stand-in's writable objects (ConfigMaps, Secrets): one store per resource, kept sorted by
// namespace/name for paged lists, with a resourceVersion that increases on every write, the field
// ownership server-side apply needs, and watchers told of every change as it happens. A short
// history lets a watch that starts from a list's resourceVersion see the changes made in between.
import { randomUUID } from 'node:crypto';
import { rfc3339 } from './fixtures.js';
import { type Ownership, managedFieldsJson } from './managed-fields.js';
import type { JsonObject } from './patches.js';

export interface StoredMeta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** A stored object as the API serves it: kind, apiVersion, metadata and the kind's own fields. */
export type ApiObject = JsonObject & { metadata: StoredMeta };

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface Change {
  type: ChangeType;
  object: ApiObject;
}

/** Counts resourceVersions for all of one server's stores, as etcd's revision does. */
export interface Revision {
  current(): number;
  next(): string;
}

export function createRevision(start: number): Revision {
  let value = start;
  return { current: () => value, next: () => String(++value) };
}

const HISTORY = 1000;
const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

export type ObjectStore = ReturnType<typeof createObjectStore>;

export function createObjectStore(kind: string, revision: Revision) {
  const objects = new Map<string, { object: ApiObject; ownership: Ownership }>();
  let sortedKeys: string[] | undefined;
  const watchers = new Set<(change: Change) => void>();
  const history: Change[] = [];

  function publish(change: Change): void {
    history.push(change);
    if (history.length > HISTORY) history.shift();
    for (const watcher of watchers) watcher(change);
  }

  /** The object with a fresh resourceVersion and its managedFields written out. */
  function finish(object: JsonObject, ownership: Ownership): ApiObject {
    const metadata = object.metadata as StoredMeta;
    metadata.resourceVersion = revision.next();
    const managed = managedFieldsJson(ownership);
    if (managed.length > 0) metadata.managedFields = managed;
    else delete metadata.managedFields;
    return { ...object, kind, apiVersion: 'v1', metadata } as ApiObject;
  }

  return {
    kind,
    get(namespace: string, name: string) {
      return objects.get(keyOf(namespace, name));
    },
    /** Sorted by namespace, then name; a namespace's alone when one is given. */
    list(namespace?: string): ApiObject[] {
      sortedKeys ??= [...objects.keys()].sort();
      const keys = namespace === undefined ? sortedKeys : sortedKeys.filter((k) => k.startsWith(`${namespace}/`));
      return keys.map((k) => objects.get(k)!.object);
    },
    /** Creates (when new) or replaces the object, assigning uid and creationTimestamp to a new one. */
    put(object: JsonObject, ownership: Ownership, now: number): ApiObject {
      const metadata = object.metadata as StoredMeta;
      const key = keyOf(metadata.namespace, metadata.name);
      const existing = objects.get(key);
      if (!existing) {
        metadata.uid = randomUUID();
        metadata.creationTimestamp = rfc3339(now);
        sortedKeys = undefined;
      }
      const stored = finish(object, ownership);
      objects.set(key, { object: stored, ownership });
      publish({ type: existing ? 'MODIFIED' : 'ADDED', object: stored });
      return stored;
    },
    /** The object as a dry run would store it: same checks and fields, nothing kept or told. */
    preview(object: JsonObject, ownership: Ownership, now: number): ApiObject {
      const metadata = object.metadata as StoredMeta;
      const existing = objects.get(keyOf(metadata.namespace, metadata.name));
      if (!existing) {
        metadata.uid = randomUUID();
        metadata.creationTimestamp = rfc3339(now);
      }
      const copy = structuredClone(object);
      (copy.metadata as StoredMeta).resourceVersion = existing ? existing.object.metadata.resourceVersion : '';
      const managed = managedFieldsJson(ownership);
      if (managed.length > 0) (copy.metadata as StoredMeta).managedFields = managed;
      return { ...copy, kind, apiVersion: 'v1' } as unknown as ApiObject;
    },
    remove(namespace: string, name: string): ApiObject | undefined {
      const key = keyOf(namespace, name);
      const existing = objects.get(key);
      if (!existing) return undefined;
      objects.delete(key);
      sortedKeys = undefined;
      // The deleted object is reported at the revision of its deletion.
      const object = { ...existing.object, metadata: { ...existing.object.metadata, resourceVersion: revision.next() } };
      publish({ type: 'DELETED', object });
      return object;
    },
    /** Changes after `resourceVersion`, then every change as it happens until unsubscribed. */
    watch(since: number | undefined, watcher: (change: Change) => void): () => void {
      if (since !== undefined) for (const change of history) if (Number(change.object.metadata.resourceVersion) > since) watcher(change);
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
    watcherCount: () => watchers.size,
  };
}
