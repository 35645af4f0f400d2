// Kubeconfig files for the stand-in: a client certificate from its CA, a token, or no credentials.
import { stringify as toYaml } from 'yaml';
import { writeFileAtomic } from '../platform/safe-file.js';
import type { ClusterCa } from './cluster-ca.js';
import { optional } from './replies.js';
import type { KubeconfigOptions } from './types.js';

export async function writeKubeconfig(path: string, server: { url: string; ca: ClusterCa }, opts: KubeconfigOptions = {}): Promise<string> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const username = opts.username ?? 'kubeport-agent';
  let user: Record<string, string> = {};
  if (opts.token) user = { token: opts.token };
  else if (!opts.anonymous) {
    const pair = await server.ca.issueClient(username, opts.groups);
    user = { 'client-certificate-data': b64(pair.certPem), 'client-key-data': b64(pair.keyPem) };
  }
  const userName = opts.token ? 'token-user' : opts.anonymous ? 'anonymous' : username;
  const contextName = opts.contextName ?? 'stand-in';
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'stand-in', cluster: { server: server.url, 'certificate-authority-data': b64(server.ca.certPem) } }],
    users: [{ name: userName, user }],
    contexts: [{ name: contextName, context: { cluster: 'stand-in', user: userName, ...optional('namespace', opts.namespace) } }],
    'current-context': contextName,
    preferences: {},
  };
  // It holds a key the agent impersonates with: never written through a planted symlink.
  writeFileAtomic(path, toYaml(config), { mode: 0o600 });
  return path;
}
