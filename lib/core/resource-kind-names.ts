// The kinds this server stores, by name only. tctl resolves kind names on every get and rm, and
// needs no schema for that: loading the schemas (zod, the role engine, re2js) costs about 150 ms
// of start-up. resources.ts checks that its schemas are exactly these kinds.

export const RESOURCE_KIND_NAMES = ['role', 'user', 'kube_cluster', 'github', 'lock'] as const;
export type ResourceKindName = (typeof RESOURCE_KIND_NAMES)[number];

export function isResourceKindName(kind: string): kind is ResourceKindName {
  return (RESOURCE_KIND_NAMES as readonly string[]).includes(kind);
}
