// npm start's one configuration schema: flags parsed and checked once, every problem found
// reported together, every default declared here and nowhere else.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import * as z from 'zod';
import { KubeportError } from '../lib/core/errors.js';
import { isDnsSubdomain } from '../lib/core/dns-name.js';
import { parseDuration } from '../lib/core/duration.js';
import { isLoopbackHost, splitHostPort } from '../lib/core/loopback.js';
import { kubeconfigPath } from '../lib/client/kubeconfig-editor.js';
import { DEFAULT_DATA_DIR } from '../lib/client/local-data-dir.js';

export const LOCAL_DEFAULTS = {
  apiAddr: '127.0.0.1:3080',
  agentAddr: '127.0.0.1:3026',
  demoGithubAddr: '127.0.0.1:3081',
  dataDir: DEFAULT_DATA_DIR,
  clusterName: 'kubeport-local',
  drainTimeout: '30s',
} as const;

/** Longest --drain-timeout: a stop that waits longer is better done by ending the streams. */
const MAX_DRAIN_MS = 3_600_000;

type Labels = Record<string, Record<string, string>>;

const address = (flag: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const parts = splitHostPort(value);
      // IPv6 stays out: the printed URLs and kubeconfig entries are written for IPv4 and names.
      if (!parts || parts.port === undefined || !isLoopbackHost(parts.host) || parts.host.includes(':')) {
        ctx.addIssue({
          code: 'custom',
          message: `${flag} must be a loopback address HOST:PORT such as ${fallback} (local mode never listens beyond this machine), not ${value}`,
        });
        return z.NEVER;
      }
      return { host: parts.host.toLowerCase() === 'localhost' ? '127.0.0.1' : parts.host, port: parts.port };
    });

const labelPair = /^([A-Za-z0-9][A-Za-z0-9._/-]*)=([^,]*)$/;

/** --cluster-labels CLUSTER:KEY=VALUE[,KEY=VALUE...], repeatable; one issue per bad spec or pair. */
const clusterLabelSpecs = z
  .array(z.string())
  .default([])
  .transform((specs, ctx) => {
    const out: Labels = {};
    for (const spec of specs) {
      const colon = spec.indexOf(':');
      const cluster = colon === -1 ? '' : spec.slice(0, colon);
      const pairs =
        colon === -1
          ? []
          : spec
              .slice(colon + 1)
              .split(',')
              .filter((p) => p !== '');
      if (!cluster || pairs.length === 0) {
        ctx.addIssue({
          code: 'custom',
          message: `--cluster-labels "${spec}" must look like CLUSTER:KEY=VALUE[,KEY=VALUE...], e.g. prod:env=prod,team=payments`,
        });
        continue;
      }
      for (const pair of pairs) {
        const match = labelPair.exec(pair);
        if (match) (out[cluster] ??= {})[match[1]!] = match[2]!;
        else ctx.addIssue({ code: 'custom', message: `--cluster-labels "${spec}": "${pair}" is not KEY=VALUE` });
      }
    }
    return out;
  });

const labelsFileContent = z.record(z.string(), z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)));

/** --cluster-labels-file FILE: YAML mapping cluster names to labels; every wrong entry named. */
const clusterLabelsFile = z
  .string()
  .optional()
  .transform((path, ctx): Labels => {
    if (path === undefined) return {};
    let doc: unknown;
    try {
      doc = parse(readFileSync(path, 'utf8'));
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `--cluster-labels-file ${path}: ${(error as Error).message.split('\n')[0]}` });
      return z.NEVER;
    }
    const result = labelsFileContent.safeParse(doc);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      ctx.addIssue({
        code: 'custom',
        message: `--cluster-labels-file ${path} must map each cluster name to KEY: VALUE labels (${issue.path.join('.')}: ${issue.message})`,
      });
    }
    return z.NEVER;
  });

export const localFlagsSchema = z.object({
  kubeconfig: z.string().min(1).optional(),
  apiAddr: address('--api-addr', LOCAL_DEFAULTS.apiAddr),
  agentAddr: address('--agent-addr', LOCAL_DEFAULTS.agentAddr),
  // 127.0.0.1 only: a connector accepts plain http for 127.0.0.1 and localhost, not other loopback names.
  demoGithubAddr: address('--demo-github-addr', LOCAL_DEFAULTS.demoGithubAddr).refine(
    (addr) => addr.host === '127.0.0.1',
    `--demo-github-addr must be 127.0.0.1:PORT or localhost:PORT such as ${LOCAL_DEFAULTS.demoGithubAddr}`,
  ),
  dataDir: z
    .string()
    .min(1)
    .default(LOCAL_DEFAULTS.dataDir)
    .transform((p) => resolve(p)),
  clusterName: z
    .string()
    .default(LOCAL_DEFAULTS.clusterName)
    .refine(
      (name) => name.length <= 63 && isDnsSubdomain(name),
      `--cluster-name must be a DNS name of at most 63 characters such as ${LOCAL_DEFAULTS.clusterName}`,
    ),
  clusterLabels: clusterLabelSpecs,
  clusterLabelsFile,
  demo: z.boolean().default(false),
  // How long open streams may run on after SIGTERM or Ctrl-C before the agent ends them.
  drainTimeout: z
    .string()
    .default(LOCAL_DEFAULTS.drainTimeout)
    .transform((value, ctx) => {
      const ms = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : durationOrUndefined(value);
      if (ms === undefined || ms > MAX_DRAIN_MS) {
        ctx.addIssue({
          code: 'custom',
          message: `--drain-timeout must be a duration from 0s to 1h such as ${LOCAL_DEFAULTS.drainTimeout} or 2m (seconds when no unit), not ${value}`,
        });
        return z.NEVER;
      }
      return ms;
    }),
});

function durationOrUndefined(value: string): number | undefined {
  try {
    return parseDuration(value);
  } catch {
    return undefined;
  }
}

export type LocalFlags = z.infer<typeof localFlagsSchema>;

/** Flags and labels as local mode uses them: the kubeconfig resolved, flag labels over file labels. */
export interface LocalConfig extends Omit<LocalFlags, 'clusterLabelsFile'> {
  clusterLabels: Labels;
}

/**
 * Parses npm start's flags (as commander gives them, undefined where not given) and the
 * environment; throws one error that lists every problem.
 */
export function parseLocalConfig(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): LocalConfig {
  const problems: string[] = [];
  const result = localFlagsSchema.safeParse(raw);
  if (!result.success) problems.push(...result.error.issues.map((issue) => issue.message));
  const flags = result.data;
  if (flags && flags.apiAddr.port === flags.agentAddr.port && flags.apiAddr.host === flags.agentAddr.host) {
    problems.push('--api-addr and --agent-addr must differ');
  }
  if (flags?.demo) {
    for (const [flag, addr] of [
      ['--api-addr', flags.apiAddr],
      ['--agent-addr', flags.agentAddr],
    ] as const) {
      if (addr.port === flags.demoGithubAddr.port && addr.host === flags.demoGithubAddr.host)
        problems.push(`--demo-github-addr and ${flag} must differ`);
    }
  }
  // --demo alone serves only the demo cluster; otherwise the kubeconfig is the source.
  const kubeconfig = flags?.kubeconfig ?? (flags?.demo ? undefined : kubeconfigPath(env));
  // A --kubeconfig given explicitly is read next, and that read names what is wrong with it.
  if (flags && flags.kubeconfig === undefined && kubeconfig !== undefined && !existsSync(kubeconfig)) {
    problems.push(`no kubeconfig at ${kubeconfig}; pass --kubeconfig FILE, or try Kubeport with its demo cluster: npm start -- --demo`);
  }
  if (!flags || problems.length > 0) throw configError(problems);
  const { clusterLabelsFile: fileLabels, clusterLabels, ...rest } = flags;
  return { ...rest, ...(kubeconfig === undefined ? {} : { kubeconfig }), clusterLabels: { ...fileLabels, ...clusterLabels } };
}

/** --cluster-labels specs on their own (one error naming every bad spec). */
export function parseClusterLabels(specs: string[]): Labels {
  const result = clusterLabelSpecs.safeParse(specs);
  if (!result.success) throw configError(result.error.issues.map((issue) => issue.message));
  return result.data;
}

/** A --cluster-labels-file on its own (one error naming every wrong entry). */
export function readClusterLabelsFile(path: string): Labels {
  const result = clusterLabelsFile.safeParse(path);
  if (!result.success) throw configError(result.error.issues.map((issue) => issue.message));
  return result.data;
}

function configError(problems: string[]): KubeportError {
  const message = problems.length === 1 ? problems[0]! : `${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
  return new KubeportError('invalid_config', message);
}
