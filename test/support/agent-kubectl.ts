// The real kubectl as one person with Kubeport roles through the agent harness: a certificate
// for `roles` from the agent's user CA, a home of their own (agent-kubeconfig.ts writes the
// kubeconfig), and kubectl run to its end or started to run on (port-forward, get -w).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { AgentHarness } from './agent-harness.js';
import { kubectlUser as kubeconfigUser } from './agent-kubeconfig.js';
import type { run } from './cli.js';

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
  const user = kubeconfigUser(h, join(dir, `${username}-${roles.join('+')}`), username, credentials);
  return {
    home: user.home,
    env: user.env,
    kubectl: (...args) => user.kubectl(args),
    kubectlWith: (extraEnv, ...args) => user.kubectl(args, { env: extraEnv }),
    spawn: (args, extraEnv = {}) =>
      spawn('kubectl', args, { env: { ...user.env, ...extraEnv }, cwd: user.home, stdio: ['ignore', 'pipe', 'pipe'] }),
  };
}
