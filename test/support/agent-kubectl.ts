// The real kubectl as one person through the agent harness: a home of their own with a kubeconfig
// whose contexts (dev, prod) point at the agent's /k8s/<cluster> paths and whose user carries a
// certificate from the agent's user CA. tsh's part is tested elsewhere, so every kubectl run here
// is kubectl alone.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AgentHarness } from './agent-harness.js';
import { run } from './cli.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

export interface KubectlUser {
  home: string;
  env: NodeJS.ProcessEnv;
  /** Runs kubectl to its end. */
  kubectl(...args: string[]): ReturnType<typeof run>;
  /** Runs kubectl to its end with more environment variables (KUBECTL_PORT_FORWARD_WEBSOCKETS=false). */
  kubectlWith(extraEnv: NodeJS.ProcessEnv, ...args: string[]): ReturnType<typeof run>;
  /** Starts a long-running kubectl (port-forward, get -w); the caller ends it. */
  spawn(args: string[], env?: NodeJS.ProcessEnv): ChildProcess;
}

/** A kubectl user `username` with `roles` under `dir`, on context dev. */
export async function kubectlUser(h: AgentHarness, dir: string, username: string, roles: string[]): Promise<KubectlUser> {
  const credentials = await h.issue({ username, roles });
  const home = join(dir, `${username}-${roles.join('+')}`);
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
      users: [
        { name: username, user: { 'client-certificate-data': b64(credentials.certPem), 'client-key-data': b64(credentials.keyPem) } },
      ],
      contexts: clusters.map(({ name }) => ({ name, context: { cluster: name, user: username } })),
      'current-context': 'dev',
    }),
  );
  const env = { ...process.env, HOME: home, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(home, 'cache') };
  return {
    home,
    env,
    kubectl: (...args) => run('kubectl', args, { env, cwd: home }),
    kubectlWith: (extraEnv, ...args) => run('kubectl', args, { env: { ...env, ...extraEnv }, cwd: home }),
    spawn: (args, extraEnv = {}) => spawn('kubectl', args, { env: { ...env, ...extraEnv }, cwd: home, stdio: ['ignore', 'pipe', 'pipe'] }),
  };
}
