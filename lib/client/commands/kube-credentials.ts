// tsh kube credentials, the kubectl exec plugin. kubectl runs it on every invocation, so it loads
// only the profile store: no flag library, no HTTP client (cli/tsh.mjs starts it directly).
import type { Clock } from '../../core/ports.js';
import type { Profile, ProfileKeys, ProfileStore } from '../profile-store.js';
import { currentProfile, requireValid } from '../session.js';
import { UsageError } from '../usage-error.js';
import type { Output } from './deps.js';

export interface KubeCredentialsOptions {
  kubeCluster?: string;
  proxy?: string;
}

/** The flags kubectl passes from the kubeconfig entry tsh wrote: --kube-cluster=NAME --proxy=HOST:PORT. */
export function optionsFrom(args: string[]): KubeCredentialsOptions {
  const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const kubeCluster = flag('kube-cluster');
  const proxy = flag('proxy');
  return { ...(kubeCluster ? { kubeCluster } : {}), ...(proxy ? { proxy } : {}) };
}

/** Writes the ExecCredential; returns the profile it came from (tsh then follows CA rotations). */
export function run(
  options: KubeCredentialsOptions,
  deps: { store: ProfileStore; clock: Clock; out: Output },
): { profile: Profile; keys: ProfileKeys } {
  if (!options.kubeCluster) throw new UsageError('kube credentials needs --kube-cluster=NAME (kubectl passes it from the kubeconfig)');
  const { profile, keys } = currentProfile(deps.store, options.proxy);
  const cert = requireValid(profile, keys, deps.clock.now());
  // kubectl asks again a minute before the end, so a long command never starts on a dying certificate.
  const expiration = new Date(new Date(cert.validTo).getTime() - 60_000);
  deps.out.stdout.write(
    `${JSON.stringify({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1',
      spec: { interactive: false },
      status: {
        clientCertificateData: keys.certPem,
        clientKeyData: keys.keyPem,
        expirationTimestamp: expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    })}\n`,
  );
  return { profile, keys };
}
