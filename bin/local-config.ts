// npm start's one configuration schema: flags parsed and checked once, every problem named.
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

const address = (flag: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const match = /^(127\.\d+\.\d+\.\d+|localhost):(\d{1,5})$/.exec(value);
      const port = Number(match?.[2]);
      if (!match || port > 65535) {
        ctx.addIssue({ code: 'custom', message: `${flag} must be a loopback address HOST:PORT such as ${fallback} (local mode never listens beyond this machine)` });
        return z.NEVER;
      }
      return { host: match[1] === 'localhost' ? '127.0.0.1' : match[1]!, port };
    });

const labelPair = /^([A-Za-z0-9][A-Za-z0-9._/-]*)=([^,]*)$/;

export function parseClusterLabels(specs: string[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    const cluster = colon === -1 ? '' : spec.slice(0, colon);
    const pairs = colon === -1 ? [] : spec.slice(colon + 1).split(',').filter((p) => p !== '');
    if (!cluster || pairs.length === 0) throw new Error(`--cluster-labels "${spec}" must look like CLUSTER:KEY=VALUE[,KEY=VALUE...], e.g. prod:env=prod,team=payments`);
    for (const pair of pairs) {
      const match = labelPair.exec(pair);
      if (!match) throw new Error(`--cluster-labels "${spec}": "${pair}" is not KEY=VALUE`);
      (out[cluster] ??= {})[match[1]!] = match[2]!;
    }
  }
  return out;
}

export function readClusterLabelsFile(path: string): Record<string, Record<string, string>> {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`--cluster-labels-file ${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  const schema = z.record(z.string(), z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)));
  const result = schema.safeParse(doc);
  if (!result.success) throw new Error(`--cluster-labels-file ${path} must map each cluster name to KEY: VALUE labels (${result.error.issues[0]!.path.join('.')}: ${result.error.issues[0]!.message})`);
  return result.data;
}

export const localFlagsSchema = z.object({
  kubeconfig: z.string().min(1).optional(),
  apiAddr: address('--api-addr', '127.0.0.1:3080'),
  agentAddr: address('--agent-addr', '127.0.0.1:3026'),
  dataDir: z.string().min(1).default('./.kubeport').transform((p) => resolve(p)),
  clusterName: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, '--cluster-name must be a DNS name such as kubeport-local').default('kubeport-local'),
  clusterLabels: z.array(z.string()).default([]),
  clusterLabelsFile: z.string().optional(),
});

export type LocalFlags = z.infer<typeof localFlagsSchema>;

export function validateLocalFlags(raw: Record<string, unknown>): LocalFlags {
  const result = localFlagsSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => issue.message);
    throw new Error(problems.join('; '));
  }
  if (result.data.apiAddr.port === result.data.agentAddr.port && result.data.apiAddr.host === result.data.agentAddr.host) {
    throw new Error('--api-addr and --agent-addr must differ');
  }
  return result.data;
}
