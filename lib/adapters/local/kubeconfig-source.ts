// Reads the clusters of a kubeconfig that local mode serves: one entry per context, with the
// context's own credentials for the upstream side.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { KUBEPORT_KUBECONFIG_MARKER } from '../../core/kubeconfig-marker.js';
import { definedOnly } from '../../core/objects.js';

export interface KubeconfigCluster {
  /** DNS-1123 label derived from the context name. */
  name: string;
  contextName: string;
  server: URL;
  tls: { ca?: string; cert?: string; key?: string; servername?: string; insecureSkipVerify?: boolean };
  token?: string;
}

export interface KubeconfigRead {
  clusters: KubeconfigCluster[];
  skipped: { context: string; reason: string }[];
}

type Named<T> = { name?: string; [key: string]: unknown } & T;

export function readKubeconfig(path: string, agentAddresses: string[]): KubeconfigRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read kubeconfig ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}; pass --kubeconfig FILE`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = (parse(text) ?? {}) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`kubeconfig ${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const base = dirname(resolve(path));
  const list = <T>(key: string) => (Array.isArray(doc[key]) ? (doc[key] as Named<T>[]) : []);
  const clusters = new Map(list<{ cluster?: Record<string, unknown>; extensions?: unknown }>('clusters').map((c) => [c.name, c]));
  const users = new Map(list<{ user?: Record<string, unknown> }>('users').map((u) => [u.name, u]));
  const read: KubeconfigRead = { clusters: [], skipped: [] };
  const taken = new Set<string>();
  for (const context of list<{ context?: Record<string, unknown> }>('contexts')) {
    const contextName = String(context.name ?? '');
    const skip = (reason: string) => read.skipped.push({ context: contextName, reason });
    const clusterEntry = clusters.get(String(context.context?.cluster ?? ''));
    const cluster = clusterEntry?.cluster ?? {};
    const user = users.get(String(context.context?.user ?? ''))?.user ?? {};
    const server = typeof cluster.server === 'string' ? cluster.server : '';
    if (isKubeportEntry(clusterEntry, server, agentAddresses)) {
      skip('it is a Kubeport entry');
      continue;
    }
    if (!server.startsWith('https://')) {
      skip(`its server ${server || '(none)'} is not an https URL`);
      continue;
    }
    if (user.exec || user['auth-provider']) {
      skip('its user authenticates with an exec plugin or auth provider, which local mode does not run');
      continue;
    }
    const file = (value: unknown) =>
      typeof value === 'string' ? readFileSync(isAbsolute(value) ? value : resolve(base, value), 'utf8') : undefined;
    const data = (value: unknown) => (typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : undefined);
    const tokenFromFile = file(user.tokenFile)?.trim();
    const token = typeof user.token === 'string' ? user.token : tokenFromFile;
    const tlsMaterial = definedOnly({
      ca: data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']),
      cert: data(user['client-certificate-data']) ?? file(user['client-certificate']),
      key: data(user['client-key-data']) ?? file(user['client-key']),
    });
    try {
      // Bad material is refused here, once, rather than on each request to that cluster.
      createSecureContext(tlsMaterial);
    } catch (error) {
      skip(`its certificate authority, client certificate or key is unusable (${(error as Error).message})`);
      continue;
    }
    const name = uniqueSlug(contextName, taken);
    read.clusters.push({
      name,
      contextName,
      server: new URL(server),
      tls: {
        ...tlsMaterial,
        ...definedOnly({
          servername: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
          insecureSkipVerify: cluster['insecure-skip-tls-verify'] === true ? true : undefined,
        }),
      },
      ...(token ? { token } : {}),
    });
  }
  return read;
}

function isKubeportEntry(entry: { extensions?: unknown } | undefined, server: string, agentAddresses: string[]): boolean {
  const extensions = Array.isArray(entry?.extensions) ? (entry.extensions as { name?: string }[]) : [];
  if (extensions.some((e) => e.name === KUBEPORT_KUBECONFIG_MARKER)) return true;
  return agentAddresses.some((address) => server.startsWith(`https://${address}/`) || server === `https://${address}`);
}

/** Context names like EKS ARNs are not DNS labels; the slug is what users type, the original stays a label. */
export function clusterSlug(contextName: string): string {
  const slug = contextName
    .toLowerCase()
    .replace(/^arn:aws[a-z-]*:eks:[^:]*:\d+:cluster\//, '')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 63)
    .replace(/-$/, '');
  return slug || 'cluster';
}

function uniqueSlug(contextName: string, taken: Set<string>): string {
  const base = clusterSlug(contextName);
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base.slice(0, 60)}-${n}`;
  taken.add(name);
  return name;
}
