// Kubeconfig files for the stand-in: a client certificate from its CA, a token, or no credentials;
// one server per file, or several (a context per server) for the demo clusters.
import { stringify as toYaml } from 'yaml';
import { writeFileAtomic } from '../platform/safe-file.js';
import type { ClusterCa } from './cluster-ca.js';
import { optional } from './replies.js';
import type { KubeconfigOptions } from './types.js';

interface Served {
  url: string;
  ca: ClusterCa;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function entries(server: Served, opts: KubeconfigOptions, names: { cluster: string; user?: string; context: string }) {
  const username = opts.username ?? 'kubeport-agent';
  let user: Record<string, string> = {};
  if (opts.token) user = { token: opts.token };
  else if (!opts.anonymous) {
    const pair = await server.ca.issueClient(username, opts.groups);
    user = { 'client-certificate-data': b64(pair.certPem), 'client-key-data': b64(pair.keyPem) };
  }
  const userName = names.user ?? (opts.token ? 'token-user' : opts.anonymous ? 'anonymous' : username);
  return {
    cluster: { name: names.cluster, cluster: { server: server.url, 'certificate-authority-data': b64(server.ca.certPem) } },
    user: { name: userName, user },
    context: { name: names.context, context: { cluster: names.cluster, user: userName, ...optional('namespace', opts.namespace) } },
  };
}

async function write(path: string, parts: Array<Awaited<ReturnType<typeof entries>>>): Promise<string> {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: parts.map((p) => p.cluster),
    users: parts.map((p) => p.user),
    contexts: parts.map((p) => p.context),
    'current-context': parts[0]?.context.name ?? '',
    preferences: {},
  };
  // It holds a key the agent impersonates with: never written through a planted symlink.
  writeFileAtomic(path, toYaml(config), { mode: 0o600 });
  return path;
}

export async function writeKubeconfig(path: string, server: Served, opts: KubeconfigOptions = {}): Promise<string> {
  return write(path, [await entries(server, opts, { cluster: 'stand-in', context: opts.contextName ?? 'stand-in' })]);
}

/** One kubeconfig for several servers: cluster, user and context each named after the server's name. */
export async function writeKubeconfigForServers(path: string, servers: Array<{ name: string; server: Served }>): Promise<string> {
  const parts = await Promise.all(servers.map(({ name, server }) => entries(server, {}, { cluster: name, user: name, context: name })));
  return write(path, parts);
}
