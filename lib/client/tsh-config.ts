// tsh's one configuration schema: what it takes from its environment and its flags, read and
// checked once, every problem named together with the setting that has it. Each default is
// declared here and nowhere else. Light on purpose: `tsh kube credentials` reads it on every
// kubectl command.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDuration } from '../core/duration.js';
import { isLoopbackHost } from '../core/loopback.js';
import { UsageError } from './usage-error.js';

export interface TshConfig {
  /** Where profiles and keys live: $TSH_HOME, else $TELEPORT_HOME, else ~/.tsh. */
  home: string;
  /** The kubeconfig file tsh edits: the first of $KUBECONFIG, else ~/.kube/config. */
  kubeconfig: string;
  /** Passed on to the exec plugin, so kubectl finds the same profiles from any directory. */
  homeOverride?: string;
  /** How old the trusted CAs of a profile may be before tsh reads them again from the proxy: $TSH_CA_REFRESH, else 5m. */
  caRefreshMs: number;
}

export const DEFAULT_CA_REFRESH_MS = 5 * 60_000;

/** tsh's flags as commander hands them over, before any check. */
export interface RawTshFlags {
  proxy?: string;
  user?: string;
  invite?: string;
  ttl?: string;
  kubeCluster?: string;
  format?: string;
  auth?: string;
  browser?: string;
  headless?: boolean;
}

export interface TshFlags {
  proxy?: string;
  user?: string;
  invite?: string;
  ttlSeconds?: number;
  kubeCluster?: string;
  format: 'text' | 'json';
  auth?: string;
  browser?: 'none';
  headless?: boolean;
}

const FORMATS = ['text', 'json'] as const;
export const DEFAULT_FORMAT = 'text';

export function kubeconfigPath(env: NodeJS.ProcessEnv): string {
  const first = env.KUBECONFIG?.split(':').find((p) => p !== '');
  return first ?? join(homedir(), '.kube', 'config');
}

export function tshConfig(env: NodeJS.ProcessEnv): TshConfig {
  const problems = new Problems();
  const home = tshHome(env, problems);
  const caRefreshMs =
    env.TSH_CA_REFRESH === undefined ? DEFAULT_CA_REFRESH_MS : problems.check(() => parseDuration(env.TSH_CA_REFRESH!), 'TSH_CA_REFRESH');
  problems.throwIfAny();
  return { home, kubeconfig: kubeconfigPath(env), ...(env.TSH_HOME ? { homeOverride: home } : {}), caRefreshMs: caRefreshMs! };
}

/** Where tsh keeps its profiles: $TSH_HOME, else $TELEPORT_HOME, else ~/.tsh. tctl finds tsh's login there too. */
export function tshHome(env: NodeJS.ProcessEnv, problems: Problems): string {
  const given = env.TSH_HOME ?? env.TELEPORT_HOME;
  const variable = env.TSH_HOME !== undefined ? 'TSH_HOME' : 'TELEPORT_HOME';
  if (given === '') problems.add(`${variable} is set but empty; unset it or name a directory`);
  // kubectl runs the exec plugin from its own working directory, so a relative home is made absolute now.
  return given ? resolve(given) : join(homedir(), '.tsh');
}

export function tshFlags(raw: RawTshFlags): TshFlags {
  const problems = new Problems();
  const flags: TshFlags = { format: DEFAULT_FORMAT };
  if (raw.proxy !== undefined) flags.proxy = problems.check(() => normalizeProxy(raw.proxy!));
  for (const name of ['user', 'invite', 'kubeCluster', 'auth'] as const) {
    const value = raw[name];
    if (value === undefined) continue;
    if (value.trim() === '') problems.add(`--${name === 'kubeCluster' ? 'kube-cluster' : name} is empty`);
    else flags[name] = value.trim();
  }
  if (raw.ttl !== undefined) {
    const ms = problems.check(() => parseDuration(raw.ttl!), '--ttl');
    if (ms !== undefined && ms < 60_000) problems.add(`--ttl ${raw.ttl} is shorter than a minute`);
    else if (ms !== undefined) flags.ttlSeconds = Math.round(ms / 1000);
  }
  if (raw.format !== undefined) {
    if ((FORMATS as readonly string[]).includes(raw.format)) flags.format = raw.format as TshFlags['format'];
    else problems.add(`--format ${raw.format} is not one of ${FORMATS.join(', ')}`);
  }
  if (raw.browser !== undefined) {
    // Teleport's tsh knows one value: none. Anything else would be silently ignored there.
    if (raw.browser === 'none') flags.browser = 'none';
    else problems.add(`--browser ${raw.browser} is not known; the one value is none (print the URL instead of opening a browser)`);
  }
  if (raw.headless) flags.headless = true;
  problems.throwIfAny();
  return flags;
}

/** Collects every problem of one configuration, so the user fixes them in one go. */
export class Problems {
  private readonly found: string[] = [];

  add(message: string): void {
    this.found.push(message);
  }

  /** Runs a parser; its error becomes a problem (prefixed with the setting's name when given). */
  check<T>(parse: () => T, setting?: string): T | undefined {
    try {
      return parse();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.add(setting ? `${setting}: ${message}` : message);
      return undefined;
    }
  }

  throwIfAny(): void {
    if (this.found.length > 0) throw new UsageError(this.found.join('; '));
  }
}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:(\d{1,5}))?$/;

/**
 * One spelling of a proxy address, host:port, whatever the user typed (a URL, a trailing slash,
 * no port): it names the profile and its files.
 */
export function normalizeProxy(input: string): string {
  const bare = input
    .trim()
    .replace(/^https?:\/\//i, '')
    .replace(/\/+$/, '');
  const match = HOST_PORT.exec(bare);
  if (!match || Number(match[3] ?? 0) > 65535)
    throw new UsageError(`--proxy ${input} is not HOST:PORT (for example 127.0.0.1:3080 or kubeport.example.com:443)`);
  const host = match[1]!.toLowerCase();
  return `${host}:${match[3] ?? (isLoopbackHost(host) ? '3080' : '443')}`;
}

/** Names from the server go into file paths; refuse anything that could leave the profile folder. */
export function safePathPart(value: string, what: string): string {
  if (!/^[A-Za-z0-9@._-]{1,253}$/.test(value) || value === '.' || value === '..') {
    throw new UsageError(`the proxy sent ${what} ${JSON.stringify(value)}, which is not a safe name; refusing it`);
  }
  return value;
}
