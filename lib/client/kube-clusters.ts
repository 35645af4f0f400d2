// The Kubernetes clusters a login may reach, and the kubeconfig entries tsh writes for them
// (tsh login and tsh kube login).
import type { Profile, ProfileKeys } from './profile-store.js';
import type { TshDeps } from './commands/deps.js';
import type { TshConfig } from './tsh-config.js';
import { type KubeEntry, addEntries, removeEntries, withKubeconfig } from './kubeconfig-editor.js';
import { apiAudience } from '../core/signed-request.js';
import { UsageError } from './usage-error.js';
import { cliCommand } from './command-hint.js';
import { unhealthyWarning } from './cluster-health-note.js';

export interface ClusterInfo {
  name: string;
  labels: Record<string, string>;
  /** What the cluster's agent last found (absent from a control plane that does not say). */
  status?: 'healthy' | 'unhealthy' | 'unknown';
  reason?: string;
  fix?: string;
}

export async function listClusters(deps: Pick<TshDeps, 'api'>, profile: Profile, keys: ProfileKeys): Promise<ClusterInfo[]> {
  const api = deps.api(profile.proxy, apiAudience(profile.cluster));
  const answer = await api.call<{ clusters: ClusterInfo[] }>('GET', '/webapi/kube/clusters', undefined, {
    certPem: keys.certPem,
    keyPem: keys.keyPem,
  });
  return answer.clusters;
}

export function requireCluster(clusters: ClusterInfo[], name: string): void {
  if (!clusters.some((c) => c.name === name))
    throw new UsageError(`kubernetes cluster "${name}" not found or not allowed; ${cliCommand('tsh')} kube ls lists yours`);
}

/** One line on standard error when the cluster kubectl is pointed at is unhealthy; the login still succeeds. */
export function warnIfUnhealthy(deps: Pick<TshDeps, 'out'>, clusters: ClusterInfo[], name: string | undefined): void {
  const cluster = clusters.find((c) => c.name === name);
  if (cluster?.status !== 'unhealthy') return;
  deps.out.stderr.write(unhealthyWarning(cluster.name, cluster.reason, cluster.fix));
}

export const contextName = (profile: Profile, kube: string) => `${profile.cluster}-${kube}`;

type KubeconfigDeps = Pick<TshDeps, 'execPlugin'> & { config: Pick<TshConfig, 'kubeconfig' | 'homeOverride'> };

function entryFor(deps: KubeconfigDeps, profile: Profile, keys: ProfileKeys, kube: string): KubeEntry {
  const env = deps.config.homeOverride ? [{ name: 'TSH_HOME', value: deps.config.homeOverride }] : [];
  return {
    name: contextName(profile, kube),
    server: `https://${profile.agent}/k8s/${kube}`,
    caPem: keys.hostCaPem,
    profile: profile.proxy,
    exec: {
      command: deps.execPlugin.command,
      args: [...deps.execPlugin.args, 'kube', 'credentials', `--kube-cluster=${kube}`, `--proxy=${profile.proxy}`],
      env,
    },
  };
}

/** Replaces this profile's entries with one per cluster; selects `select`, else the first. */
export async function writeKubeconfig(
  deps: KubeconfigDeps,
  profile: Profile,
  keys: ProfileKeys,
  clusters: ClusterInfo[],
  select?: string,
): Promise<string | undefined> {
  return withKubeconfig(deps.config.kubeconfig, (config) => {
    removeEntries(config, profile.proxy);
    addEntries(
      config,
      clusters.map((c) => entryFor(deps, profile, keys, c.name)),
    );
    const wanted = select ?? (clusters.length > 0 ? clusters[0]!.name : undefined);
    if (wanted) config['current-context'] = contextName(profile, wanted);
    return wanted;
  });
}
