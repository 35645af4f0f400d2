// The kubectl exec plugin (`tsh kube credentials`). kubectl runs it on every invocation, so it
// loads only the profile store: no flag library, no HTTP client.
import { ProfileStore, tshHome } from './profile-store.js';
import { UsageError, currentProfile, requireValid } from './session.js';

export function kubeCredentials(args: string[], env: NodeJS.ProcessEnv, now = new Date()): string {
  const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (!flag('kube-cluster')) throw new UsageError('kube credentials needs --kube-cluster=NAME (kubectl passes it from the kubeconfig)');
  const { profile, keys } = currentProfile(new ProfileStore(tshHome(env)), flag('proxy'));
  const cert = requireValid(profile, keys, now);
  // kubectl asks again a minute before the end, so a long command never starts on a dying certificate.
  const expiration = new Date(new Date(cert.validTo).getTime() - 60_000);
  return `${JSON.stringify({
    kind: 'ExecCredential',
    apiVersion: 'client.authentication.k8s.io/v1',
    spec: { interactive: false },
    status: { clientCertificateData: keys.certPem, clientKeyData: keys.keyPem, expirationTimestamp: expiration.toISOString().replace(/\.\d{3}Z$/, 'Z') },
  })}\n`;
}
