// What tsh takes from its environment, read once at start.
import { isLoopbackHost } from '../core/loopback.js';
import { kubeconfigPath } from './kubeconfig-editor.js';
import { tshHome } from './profile-store.js';

export interface TshConfig {
  /** Where profiles and keys live (~/.tsh, or $TSH_HOME). */
  home: string;
  /** The kubeconfig file tsh edits: the first of $KUBECONFIG, else ~/.kube/config. */
  kubeconfig: string;
  /** Passed on to the exec plugin, so kubectl finds the same profiles. */
  homeOverride?: string;
}

export function tshConfig(env: NodeJS.ProcessEnv): TshConfig {
  return {
    home: tshHome(env),
    kubeconfig: kubeconfigPath(env),
    ...(env.TSH_HOME ? { homeOverride: env.TSH_HOME } : {}),
  };
}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:(\d{1,5}))?$/;

/**
 * One spelling of a proxy address, host:port, whatever the user typed (a URL, a trailing slash,
 * no port): it names the profile and its files.
 */
export function normalizeProxy(input: string): string {
  const bare = input.trim().replace(/^https?:\/\//i, '').replace(/\/+$/, '');
  const match = HOST_PORT.exec(bare);
  if (!match) throw new Error(`--proxy ${input} is not HOST:PORT (for example 127.0.0.1:3080 or kubeport.example.com:443)`);
  const host = match[1]!.toLowerCase();
  return `${host}:${match[3] ?? (isLoopbackHost(host) ? '3080' : '443')}`;
}

/** Names from the server go into file paths; refuse anything that could leave the profile folder. */
export function safePathPart(value: string, what: string): string {
  if (!/^[A-Za-z0-9@._-]{1,253}$/.test(value) || value === '.' || value === '..') {
    throw new Error(`the proxy sent ${what} ${JSON.stringify(value)}, which is not a safe name; refusing it`);
  }
  return value;
}
