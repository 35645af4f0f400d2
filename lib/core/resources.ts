// Resource schemas (YAML, as Teleport users write them): role v7/v8 (role-schema.ts), user v2, kube_cluster v3, lock v2 (lock.ts).
import * as z from 'zod';
import { DNS_LABEL } from './dns-name.js';
import { kubeClusterSpecSchema } from './kube-cluster-source.js';
import { type GitHubConnector, githubConnectorSchema } from './github-connector.js';
import { type Lock, lockSchema } from './lock.js';
import { metadata, stringList } from './metadata-schema.js';
import { type Role, roleSchema } from './role-schema.js';
import type { ResourceKindName } from './resource-kind-names.js';

export { roleSchema, type Role } from './role-schema.js';

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
    spec: kubeClusterSpecSchema,
  })
  .strict();
export type KubeCluster = z.infer<typeof kubeClusterSchema>;

export const resourceSchemas = {
  role: roleSchema,
  user: userSchema,
  kube_cluster: kubeClusterSchema,
  github: githubConnectorSchema,
  lock: lockSchema,
} as const;
export type ResourceKind = keyof typeof resourceSchemas;
// The kind names tctl resolves without loading schemas must be exactly these kinds, both ways.
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const kindNamesMatchSchemas: SameKeys<ResourceKind, ResourceKindName> = true;
void kindNamesMatchSchemas;

export function isResourceKind(kind: string): kind is ResourceKind {
  return Object.hasOwn(resourceSchemas, kind);
}

/** Validates a parsed document; the error names the field and what to write instead. */
export function parseResource(
  document: unknown,
  source = 'input',
): { ok: true; kind: ResourceKind; resource: Role | User | KubeCluster | GitHubConnector | Lock } | { ok: false; message: string } {
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
