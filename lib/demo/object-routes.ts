// Routes of the writable kinds (configmaps, secrets): list and watch across the cluster or in a
// namespace, and get, create, update, patch and delete of one object, each authorized with the
// verb the API server would check.
import { type Attributes, json, notFound } from './replies.js';
import type { Route } from './routing.js';
import { listOrWatch } from './object-lists.js';
import { type ObjectStore, type Revision, createObjectStore } from './object-store.js';
import { type WriteTarget, createObject, deleteObject, patchObject, seedObject, updateObject } from './object-writes.js';
import type { KubeApiServerOptions, StreamOptions } from './types.js';
import { type WritableKind, writableKinds } from './writable-kinds.js';

export type WritableStores = Map<WritableKind['resource'], WriteTarget>;

export function createWritableStores(options: {
  revision: Revision;
  namespaces: string[];
  namespaceExists(namespace: string): boolean;
  configMaps?: KubeApiServerOptions['configMaps'];
  /** kube-root-ca.crt in every namespace carries it, as on a real cluster. */
  caPem: string;
}): WritableStores {
  const now = () => Date.now();
  const stores: WritableStores = new Map(
    writableKinds.map((kind) => [
      kind.resource,
      { kind, store: createObjectStore(kind.kind, options.revision), namespaceExists: options.namespaceExists, now },
    ]),
  );
  const configMaps = stores.get('configmaps')!;
  for (const namespace of options.namespaces) {
    const metadata = { name: 'kube-root-ca.crt', namespace, annotations: { 'kubernetes.io/description': 'Contains a CA bundle' } };
    seedObject(configMaps, { metadata, data: { 'ca.crt': options.caPem } }, 'kube-controller-manager');
  }
  for (const [namespace, list] of Object.entries(options.configMaps ?? {})) {
    for (const { name, data, labels } of list) {
      seedObject(configMaps, { metadata: { name, namespace, ...(labels ? { labels } : {}) }, ...(data ? { data } : {}) });
    }
  }
  return stores;
}

export function writableRoutes(stores: WritableStores, revision: Revision, streams: StreamOptions): Route[] {
  return [...stores.values()].flatMap((target) => {
    const { resource } = target.kind;
    const store: ObjectStore = target.store;
    const attrs = (verb: string, ns?: string, name?: string): Attributes => ({
      verb,
      group: '',
      resource,
      ...(ns !== undefined ? { namespace: ns } : {}),
      ...(name !== undefined ? { name } : {}),
    });
    const columns = target.kind.columns;
    const one = `/api/v1/namespaces/:ns/${resource}/:name`;
    const routes: Route[] = [
      {
        method: 'GET',
        pattern: `/api/v1/${resource}`,
        authorize: () => attrs('list'),
        handle: (ctx) => listOrWatch(ctx, store, revision, columns, streams),
      },
      {
        method: 'GET',
        pattern: `/api/v1/namespaces/:ns/${resource}`,
        authorize: ({ ns }) => attrs('list', ns),
        handle: (ctx) => listOrWatch(ctx, store, revision, columns, streams, ctx.params.ns ?? ''),
      },
      {
        method: 'POST',
        pattern: `/api/v1/namespaces/:ns/${resource}`,
        authorize: ({ ns }) => attrs('create', ns),
        handle: (ctx) => createObject(ctx, target, ctx.params.ns ?? ''),
      },
      {
        method: 'GET',
        pattern: one,
        authorize: ({ ns, name }) => attrs('get', ns, name),
        handle: ({ params: { ns = '', name = '' } }) => {
          const found = store.get(ns, name);
          return found ? { status: 200, body: json(found.object) } : notFound(resource, name);
        },
      },
      {
        method: 'PUT',
        pattern: one,
        authorize: ({ ns, name }) => attrs('update', ns, name),
        handle: (ctx) => updateObject(ctx, target, ctx.params.ns ?? '', ctx.params.name ?? ''),
      },
      {
        method: 'PATCH',
        pattern: one,
        authorize: ({ ns, name }) => attrs('patch', ns, name),
        handle: (ctx) => patchObject(ctx, target, ctx.params.ns ?? '', ctx.params.name ?? ''),
      },
      {
        method: 'DELETE',
        pattern: one,
        authorize: ({ ns, name }) => attrs('delete', ns, name),
        handle: (ctx) => deleteObject(ctx, target, ctx.params.ns ?? '', ctx.params.name ?? ''),
      },
    ];
    return routes;
  });
}
