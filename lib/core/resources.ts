// Resource schemas (YAML, as Teleport users write them): role v7, user v2, kube_cluster v3.
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { DNS_LABEL } from './dns-name.js';
import { type GitHubConnector, githubConnectorSchema } from './github-connector.js';

const name = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-zA-Z0-9@._-]+$/, 'use letters, digits, @ . _ and - only');
const labelValues = z.union([z.string(), z.array(z.string())]);
const stringList = z.array(z.string());
const metadata = z.object({
  name,
  description: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

const kubernetesResource = z.object({
  kind: z.string().default('*'),
  namespace: z.string().default('*'),
  name: z.string().default('*'),
  verbs: z.array(z.string()).default(['*']),
  api_group: z.string().optional(),
});

const adminRule = z.object({ resources: stringList, verbs: stringList });

const roleConditions = z
  .object({
    kubernetes_labels: z
      .record(z.string(), labelValues)
      .optional()
      .superRefine((labels, ctx) => {
        for (const [key, value] of Object.entries(labels ?? {})) {
          if (key === '*' && value !== '*')
            ctx.addIssue({ code: 'custom', message: `selector *:${String(value)} is not supported; use '*': '*'` });
        }
      }),
    kubernetes_groups: stringList.optional(),
    kubernetes_users: stringList.optional(),
    // Until the agent checks kinds, namespaces, names and verbs, a narrower entry would promise a
    // restriction that does not hold; only the everything-entry is accepted.
    kubernetes_resources: z
      .array(
        kubernetesResource.refine(
          (r) =>
            r.kind === '*' &&
            r.namespace === '*' &&
            r.name === '*' &&
            r.verbs.length === 1 &&
            r.verbs[0] === '*' &&
            (r.api_group ?? '*') === '*',
          "only {kind: '*', namespace: '*', name: '*', verbs: ['*']} is supported yet; narrower kubernetes_resources are not enforced, so leave them out and restrict access with kubernetes_groups and the cluster's RBAC",
        ),
      )
      .optional(),
    rules: z.array(adminRule).optional(),
  })
  .strict();

const duration = z.string().refine((text) => {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}, 'write a duration like 8h or 30m');

export const roleSchema = z
  .object({
    kind: z.literal('role'),
    version: z.enum(['v7']).default('v7'),
    metadata,
    spec: z
      .object({
        options: z.object({ max_session_ttl: duration.optional() }).strict().default({}),
        allow: roleConditions.default({}),
        deny: roleConditions.default({}),
      })
      .strict(),
  })
  .strict();
export type Role = z.infer<typeof roleSchema>;

export const userSchema = z
  .object({
    kind: z.literal('user'),
    version: z.literal('v2').default('v2'),
    metadata,
    spec: z
      .object({
        roles: stringList,
        traits: z.record(z.string(), stringList).default({}),
        created_by: z
          .object({
            connector: z.string().optional(),
            time: z.string().optional(),
            /** Set by the server at each creation; invites and credentials of an earlier user of the name carry another. */
            incarnation: z.string().optional(),
          })
          .optional(),
        /** The GitHub accounts this user signs in as (set by GitHub login; keyed by GitHub's immutable id). */
        github_identities: z.array(z.object({ connector_id: z.string(), username: z.string(), user_id: z.string() }).strict()).optional(),
        /** Certificates issued before this time are refused (set by trait changes and removal). */
        revoked_before: z.iso.datetime({ offset: true }).optional(),
      })
      .strict(),
  })
  .strict();
export type User = z.infer<typeof userSchema>;

export const kubeClusterSchema = z
  .object({
    kind: z.literal('kube_cluster'),
    version: z.literal('v3').default('v3'),
    metadata: metadata.extend({
      name: z.string().regex(DNS_LABEL, 'cluster names are DNS-1123 labels'),
    }),
    spec: z.object({ source: z.string().optional() }).default({}),
  })
  .strict();
export type KubeCluster = z.infer<typeof kubeClusterSchema>;

export const resourceSchemas = {
  role: roleSchema,
  user: userSchema,
  kube_cluster: kubeClusterSchema,
  github: githubConnectorSchema,
} as const;
export type ResourceKind = keyof typeof resourceSchemas;

export function isResourceKind(kind: string): kind is ResourceKind {
  return Object.hasOwn(resourceSchemas, kind);
}

/** Validates a parsed document; the error names the field and what to write instead. */
export function parseResource(
  document: unknown,
  source = 'input',
): { ok: true; kind: ResourceKind; resource: Role | User | KubeCluster | GitHubConnector } | { ok: false; message: string } {
  const kind = typeof document === 'object' && document !== null ? (document as { kind?: unknown }).kind : undefined;
  if (typeof kind !== 'string' || !isResourceKind(kind)) {
    return {
      ok: false,
      message: `${source}: kind must be one of ${Object.keys(resourceSchemas).join(', ')} (got ${JSON.stringify(kind ?? null)})`,
    };
  }
  const result = resourceSchemas[kind].safeParse(document);
  if (result.success) return { ok: true, kind, resource: result.data };
  const issue = result.error.issues[0]!;
  const path = issue.path.join('.') || '(document)';
  return { ok: false, message: `${source}: ${kind} field ${path}: ${issue.message}` };
}
