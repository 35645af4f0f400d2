// A kubeconfig that points kubectl at an in-process agent (agent-harness.ts) with a user
// certificate from its user CA, and a runner for kubectl as that user: for end-to-end tests in
// which every kubectl run is the real kubectl through the real agent to the stand-in.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AgentHarness, ClientCredentials } from './agent-harness.js';
import { type RunOptions, run } from './cli.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

export interface KubectlUser {
  home: string;
  /** HOME, KUBECONFIG and a kubectl cache of the user's own. */
  env: NodeJS.ProcessEnv;
  kubectl: (args: string[], options?: RunOptions) => ReturnType<typeof run>;
}

/** Writes `home`/config for `user` on clusters dev (current) and prod of the agent `h`. */
export function kubectlUser(h: AgentHarness, home: string, user: string, credentials: ClientCredentials): KubectlUser {
  mkdirSync(home, { recursive: true });
  const kubeconfig = join(home, 'config');
  const clusters = ['dev', 'prod'].map((name) => ({
    name,
    cluster: { server: `https://127.0.0.1:${h.port}/k8s/${name}`, 'certificate-authority-data': b64(h.hostCa.certPem) },
  }));
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters,
      users: [{ name: user, user: { 'client-certificate-data': b64(credentials.certPem), 'client-key-data': b64(credentials.keyPem) } }],
      contexts: clusters.map(({ name }) => ({ name, context: { cluster: name, user } })),
      'current-context': 'dev',
    }),
  );
  const env = { ...process.env, HOME: home, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(home, 'cache') };
  return {
    home,
    env,
    kubectl: (args, options = {}) => run('kubectl', args, { cwd: home, ...options, env: { ...env, ...options.env } }),
  };
}
