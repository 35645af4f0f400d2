// kubernetes_resources entries: Teleport's validation for role v7 and v8, and the conversion of
// both to one normalized form (plural resource + API group) that decisions use.
import { CORE_RESOURCES, KUBE_VERBS, V7_CLUSTER_WIDE_KINDS, V7_KINDS, isKnownNamespaced } from './kube-kinds.js';
import { patternProblem } from './patterns.js';
import { templateProblem } from './trait-templates.js';

export interface KubernetesResourceEntry {
  kind?: string | undefined;
  api_group?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
  verbs?: string[] | undefined;
}

/** An entry as decisions see it: v8 meaning, every field present. */
export interface NormalizedEntry {
  kind: string;
  apiGroup: string;
  /** '' = cluster-scoped objects only. */
  namespace: string;
  name: string;
  verbs: string[];
  /** How the role wrote it, for messages. */
  source: string;
}

const V7_KIND_LIST = ['*', ...Object.keys(V7_KINDS)].join(', ');
const VERB_LIST = KUBE_VERBS.join(', ');

export function checkKubernetesResource(version: string, entry: KubernetesResourceEntry): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const add = (field: string, message: string) => problems.push({ field, message });
  const kind = entry.kind ?? '';
  const group = entry.api_group ?? '';
  const verbs = entry.verbs;

  if (verbs === undefined || verbs.length === 0) {
    if (version !== 'v7') add('verbs', `list the verbs this entry grants, e.g. [get, list, watch], or ['*'] for all (${VERB_LIST})`);
  } else {
    for (const verb of verbs) {
      if (verb !== '*' && !KUBE_VERBS.includes(verb)) {
        add('verbs', `KubernetesResource verb "${verb}" is invalid or unsupported; Supported: *, ${VERB_LIST}`);
      }
    }
    if (verbs.includes('*') && verbs.length > 1) {
      add('verbs', `KubernetesResource verb "*" cannot be used with other verbs; write verbs: ['*'] alone, or list the verbs`);
    }
  }
  if (!entry.name) add('name', `KubernetesResource must include Name; write name: '*' for every name`);

  if (version === 'v7') {
    if (group !== '') add('api_group', `API Group "${group}" is not supported in role version "v7". Upgrade the role version to "v8"`);
    if (kind !== '*' && !Object.hasOwn(V7_KINDS, kind)) {
      add('kind', `KubernetesResource kind "${kind}" is invalid or unsupported in role version "v7"; Supported: ${V7_KIND_LIST}`);
    }
    if (!entry.namespace && !V7_CLUSTER_WIDE_KINDS.has(kind)) {
      add('namespace', `KubernetesResource kind "${kind}" must include Namespace; write namespace: '*' for every namespace`);
    }
  } else {
    if (kind === '')
      add('kind', `KubernetesResource kind is required in role version "${version}"; write the plural resource, e.g. kind: pods`);
    const legacy = Object.hasOwn(V7_KINDS, kind) ? V7_KINDS[kind] : undefined;
    if (legacy && (group === '*' || group === legacy.group)) {
      const fix =
        kind === 'namespace' ? 'kind: namespaces (the namespace object only)' : `kind: ${legacy.resource}, api_group: "${legacy.group}"`;
      add('kind', `KubernetesResource kind "${kind}" is invalid. Please use plural name for role version "${version}" (${fix})`);
    } else if (entry.api_group === undefined && kind === '*') {
      add(
        'api_group',
        `KubernetesResource api_group is required in role version "${version}"; write api_group: '*' for every group, or "" for the core group`,
      );
    } else if (group === '' && kind !== '*' && !CORE_RESOURCES.has(kind)) {
      add(
        'api_group',
        `KubernetesResource api_group is required for resource "${kind}" in role version "${version}" (e.g. apps for deployments; "" only for core resources such as pods)`,
      );
    }
    if (!entry.namespace && isKnownNamespaced(group, kind)) {
      add('namespace', `KubernetesResource "${kind}" must include Namespace; write namespace: '*' for every namespace`);
    }
  }
  for (const field of ['kind', 'api_group', 'namespace', 'name'] as const) {
    const value = entry[field];
    if (value === undefined) continue;
    const problem = field === 'namespace' || field === 'name' ? (templateProblem(value) ?? patternProblem(value)) : patternProblem(value);
    if (problem) add(field, problem);
  }
  return problems;
}

/** The v8 meaning of an entry: v7 singular kinds become plural + group, v7 `namespace` grants the namespace and all in it. */
export function normalizeEntry(version: string, entry: KubernetesResourceEntry): NormalizedEntry[] {
  const source = describeEntry(entry);
  const verbs = entry.verbs && entry.verbs.length > 0 ? entry.verbs : version === 'v7' ? ['*'] : [];
  const name = entry.name ?? '';
  const namespace = entry.namespace ?? '';
  const kind = entry.kind ?? '';
  if (version !== 'v7') return [{ kind, apiGroup: entry.api_group ?? '', namespace, name, verbs, source }];
  if (kind === '*') return [{ kind: '*', apiGroup: '*', namespace, name, verbs, source }];
  if (kind === 'namespace') {
    return [
      { kind: 'namespaces', apiGroup: '', namespace: '', name, verbs, source },
      { kind: '*', apiGroup: '*', namespace: name, name: '*', verbs, source },
    ];
  }
  const converted = Object.hasOwn(V7_KINDS, kind) ? V7_KINDS[kind]! : undefined;
  // A kind the schema would refuse (stored before validation) grants nothing.
  if (!converted) return [];
  const clusterWide = V7_CLUSTER_WIDE_KINDS.has(kind);
  return [{ kind: converted.resource, apiGroup: converted.group, namespace: clusterWide ? '' : namespace, name, verbs, source }];
}

/** The entry as YAML an admin can paste into a role: '*' and other special values quoted. */
export function describeEntry(entry: KubernetesResourceEntry): string {
  const parts = [`kind: ${yamlScalar(entry.kind ?? '')}`];
  if (entry.api_group !== undefined) parts.push(`api_group: ${JSON.stringify(entry.api_group)}`);
  if (entry.namespace !== undefined) parts.push(`namespace: ${yamlScalar(entry.namespace)}`);
  parts.push(`name: ${yamlScalar(entry.name ?? '')}`, `verbs: [${(entry.verbs ?? ['*']).map(yamlScalar).join(', ')}]`);
  return `{${parts.join(', ')}}`;
}

/** Words YAML reads as booleans or null; quoted so they stay strings. */
const YAML_WORDS = /^(true|false|yes|no|on|off|y|n|null|~)$/i;

/** A value as a YAML flow scalar: plain when YAML reads it back as the same string, else quoted. */
export function yamlScalar(value: string): string {
  if (value === '') return '""';
  const plain = /^[A-Za-z_][\w.\/-]*$/.test(value) && !YAML_WORDS.test(value);
  return plain ? value : `'${value.replace(/'/g, "''")}'`;
}
