// Adds and removes tsh's entries in the user's kubeconfig (first file of $KUBECONFIG, else
// ~/.kube/config) under a lock, replacing the file atomically. Entries tsh did not write are
// never touched.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Document, isMap, isNode, isSeq, parseDocument } from 'yaml';
import { KUBEPORT_KUBECONFIG_MARKER } from '../core/kubeconfig-marker.js';
import { writeFileAtomic } from '../platform/safe-file.js';
import { UsageError } from './usage-error.js';

// Declared with tsh's configuration; re-exported for npm start, which reads the same file.
export { kubeconfigPath } from './tsh-config.js';

export interface KubeEntry {
  /** Context, cluster and user name: <kubeport cluster>-<kube cluster>. */
  name: string;
  server: string;
  caPem: string;
  profile: string;
  exec: { command: string; args: string[]; env: { name: string; value: string }[] };
}

interface Named {
  name: string;
  [key: string]: unknown;
}

interface Kubeconfig {
  apiVersion?: string;
  kind?: string;
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
  'current-context'?: string;
  [key: string]: unknown;
}

const LOCK_STALE_MS = 30_000;

export async function withKubeconfig<T>(givenPath: string, edit: (config: Kubeconfig) => T): Promise<T> {
  // A symlinked kubeconfig stays a symlink: the file it points at is the one replaced.
  const path = existsSync(givenPath) ? realpathSync(givenPath) : givenPath;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const lock = `${path}.lock`;
  await acquire(lock);
  try {
    const document = readDocument(path);
    const original = toConfig(document);
    const config = toConfig(document);
    const result = edit(config);
    const changed = (['apiVersion', 'kind', 'clusters', 'users', 'contexts', 'current-context'] as const).filter(
      (key) => JSON.stringify(config[key]) !== JSON.stringify(original[key]) || (config[key] !== undefined && !document.has(key)),
    );
    if (changed.length > 0) {
      // Only what tsh changed is rewritten, so comments and entries it did not touch stay as written.
      for (const key of changed) {
        if (key === 'clusters' || key === 'users' || key === 'contexts') updateNamedList(document, key, config[key] ?? []);
        else document.set(key, config[key]);
      }
      writeFileAtomic(path, document.toString(), { mode: existsSync(path) ? statSync(path).mode & 0o777 : 0o600 });
    }
    return result;
  } finally {
    rmSync(lock, { force: true });
  }
}

export function readKubeconfigFile(path: string): Kubeconfig {
  return read(path);
}

function read(path: string): Kubeconfig {
  return toConfig(readDocument(path));
}

/** Replaces, removes and appends list entries by name, leaving unchanged entries' nodes alone. */
function updateNamedList(document: Document, key: 'clusters' | 'users' | 'contexts', wanted: Named[]): void {
  const node = document.get(key, true);
  if (!isSeq(node)) {
    document.set(key, wanted);
    return;
  }
  const wantedByName = new Map(wanted.map((item) => [item.name, item]));
  const kept = new Set<string>();
  node.items = node.items.filter((item) => {
    const current = isNode(item) ? (item.toJSON() as Named) : undefined;
    const name = current?.name;
    const target = name === undefined ? undefined : wantedByName.get(name);
    if (!target || kept.has(name!) || JSON.stringify(target) !== JSON.stringify(current)) return false;
    kept.add(name!);
    return true;
  });
  // An empty `[]` would otherwise grow into one long flow-style line.
  if (node.items.length === 0) node.flow = false;
  for (const item of wanted) if (!kept.has(item.name)) node.items.push(document.createNode(item));
}

function readDocument(path: string): Document {
  const doc = parseDocument(existsSync(path) ? readFileSync(path, 'utf8') : '');
  if (doc.errors.length > 0)
    throw new UsageError(
      `kubeconfig ${path} is not valid YAML (${doc.errors[0]!.message.split('\n')[0]}); fix or move it, then run tsh again`,
    );
  if (!doc.contents || !isMap(doc.contents)) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  return doc;
}

function toConfig(doc: Document): Kubeconfig {
  return { apiVersion: 'v1', kind: 'Config', ...(doc.toJS() as Kubeconfig) };
}

async function acquire(lock: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs;
      if (Number.isFinite(age) && age > LOCK_STALE_MS) rmSync(lock, { force: true });
      if (attempt > 200) throw new UsageError(`kubeconfig is locked by another tsh (${lock}); remove the lock file if no tsh is running`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

// A plain string value, as Teleport writes its own kubeconfig extensions.
const marker = (profile: string) => [{ name: KUBEPORT_KUBECONFIG_MARKER, extension: profile }];
const upsert = (list: Named[] | undefined, item: Named): Named[] => [...(list ?? []).filter((i) => i.name !== item.name), item];

export function addEntries(config: Kubeconfig, entries: KubeEntry[]): void {
  for (const entry of entries) {
    config.clusters = upsert(config.clusters, {
      name: entry.name,
      cluster: {
        server: entry.server,
        'certificate-authority-data': Buffer.from(entry.caPem).toString('base64'),
        extensions: marker(entry.profile),
      },
    });
    config.users = upsert(config.users, {
      name: entry.name,
      user: {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: entry.exec.command,
          args: entry.exec.args,
          env: entry.exec.env.length > 0 ? entry.exec.env : null,
          interactiveMode: 'IfAvailable',
          provideClusterInfo: false,
        },
        extensions: marker(entry.profile),
      },
    });
    config.contexts = upsert(config.contexts, {
      name: entry.name,
      context: { cluster: entry.name, user: entry.name, extensions: marker(entry.profile) },
    });
  }
}

function ownedBy(item: Named, kind: 'cluster' | 'user' | 'context', profile: string): boolean {
  const body = item[kind] as { extensions?: { name?: string; extension?: unknown }[] } | undefined;
  return (body?.extensions ?? []).some((e) => e.name === KUBEPORT_KUBECONFIG_MARKER && e.extension === profile);
}

/** Removes the entries this profile wrote; returns their names. */
export function removeEntries(config: Kubeconfig, profile: string): string[] {
  const removed = (config.contexts ?? []).filter((c) => ownedBy(c, 'context', profile)).map((c) => c.name);
  config.clusters = (config.clusters ?? []).filter((c) => !ownedBy(c, 'cluster', profile));
  config.users = (config.users ?? []).filter((u) => !ownedBy(u, 'user', profile));
  config.contexts = (config.contexts ?? []).filter((c) => !ownedBy(c, 'context', profile));
  if (config['current-context'] && removed.includes(config['current-context'])) config['current-context'] = '';
  return removed;
}

/** Points this profile's cluster entries at `caPem` (a CA rotation); returns how many there are. */
export function setProfileCa(config: Kubeconfig, profile: string, caPem: string): number {
  const data = Buffer.from(caPem).toString('base64');
  const owned = (config.clusters ?? []).filter((c) => ownedBy(c, 'cluster', profile));
  config.clusters = (config.clusters ?? []).map((c) =>
    owned.includes(c) ? { ...c, cluster: { ...(c.cluster as object), 'certificate-authority-data': data } } : c,
  );
  return owned.length;
}

export function profileEntryNames(config: Kubeconfig, profile: string): string[] {
  return (config.contexts ?? []).filter((c) => ownedBy(c, 'context', profile)).map((c) => c.name);
}
