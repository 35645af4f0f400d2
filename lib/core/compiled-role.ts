// A role turned into matchers once (kept per role object), so a decision only runs closures:
// label selectors, kubernetes_resources in their v8 meaning with each version's defaults, the
// shortest TTL. Patterns with templates are expanded per user at decision time.
import type { Traits } from './identity.js';
import { type LabelSelector, compileSelector } from './label-match.js';
import { type Matcher, compilePattern, coversEverything } from './patterns.js';
import { type NormalizedEntry, normalizeEntry } from './role-kube-resources.js';
import type { Role } from './role-schema.js';
import { expandTemplate, expandTemplates, isTemplate } from './trait-templates.js';
import { parseDuration } from './duration.js';

export type ClusterLabelsCheck = (labels: Record<string, string>, traits: Traits) => boolean;

/** A name or namespace pattern: fixed, or a template whose values depend on the user. */
export interface PatternField {
  source: string;
  /** Set when the pattern has no template. */
  match?: Matcher;
  everything: boolean;
}

export interface CompiledEntry {
  kind: Matcher;
  kindSource: string;
  group: Matcher;
  namespace: PatternField;
  name: PatternField;
  allVerbs: boolean;
  verbs: ReadonlySet<string>;
  source: string;
}

export interface CompiledRole {
  name: string;
  allowLabels: ClusterLabelsCheck;
  /** Deny side without label matchers applies on every cluster (stricter than Teleport, where it applies nowhere). */
  denyLabels: ClusterLabelsCheck;
  hasDenyLabels: boolean;
  /** Deny labels and no deny kubernetes_resources: the whole cluster is denied. */
  deniesWholeCluster: boolean;
  allowEntries: CompiledEntry[];
  denyEntries: CompiledEntry[];
  maxSessionTtlMs: number | undefined;
}

const compiled = new WeakMap<Role, CompiledRole>();

export function compileRole(role: Role): CompiledRole {
  let result = compiled.get(role);
  if (!result) {
    result = build(role);
    compiled.set(role, result);
  }
  return result;
}

function build(role: Role): CompiledRole {
  const { allow, deny } = role.spec;
  const version = role.version;
  const hasAllowLabels = Object.keys(allow.kubernetes_labels ?? {}).length > 0;
  const hasDenyLabels = Object.keys(deny.kubernetes_labels ?? {}).length > 0;
  let allowResources = allow.kubernetes_resources ?? [];
  // Teleport's defaults: only when the role names clusters and lists no resources.
  if (allowResources.length === 0 && hasAllowLabels) {
    allowResources = [
      version === 'v7'
        ? { kind: '*', namespace: '*', name: '*', verbs: ['*'] }
        : { kind: '*', api_group: '*', namespace: '*', name: '*', verbs: ['*'] },
    ];
  }
  const denyResources = deny.kubernetes_resources ?? [];
  return {
    name: role.metadata.name,
    allowLabels: labelsCheck(allow.kubernetes_labels),
    denyLabels: hasDenyLabels ? labelsCheck(deny.kubernetes_labels) : () => true,
    hasDenyLabels,
    deniesWholeCluster: hasDenyLabels && denyResources.length === 0,
    allowEntries: allowResources.flatMap((entry) => normalizeEntry(version, entry)).map(compileEntry),
    denyEntries: denyResources.flatMap((entry) => normalizeEntry(version, entry)).map(compileEntry),
    maxSessionTtlMs: ttlOf(role.spec.options.max_session_ttl),
  };
}

function ttlOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch {
    return undefined;
  }
}

function labelsCheck(selector: LabelSelector | undefined): ClusterLabelsCheck {
  const templated = Object.values(selector ?? {}).some((v) => (Array.isArray(v) ? v.some(isTemplate) : isTemplate(v)));
  if (!templated) {
    const check = compileSelector(selector);
    return (labels) => check(labels);
  }
  return (labels, traits) => {
    const expanded: LabelSelector = {};
    for (const [key, value] of Object.entries(selector!)) {
      const values = expandTemplates(Array.isArray(value) ? value : [value], traits);
      // A label whose template has no value can match nothing, so the selector cannot match.
      if (values.length === 0) return false;
      expanded[key] = values;
    }
    return compileSelector(expanded)(labels);
  };
}

function compileEntry(entry: NormalizedEntry): CompiledEntry {
  return {
    kind: compilePattern(entry.kind),
    kindSource: entry.kind,
    group: compilePattern(entry.apiGroup),
    namespace: patternField(entry.namespace),
    name: patternField(entry.name),
    allVerbs: entry.verbs.includes('*'),
    verbs: new Set(entry.verbs),
    source: entry.source,
  };
}

function patternField(source: string): PatternField {
  if (isTemplate(source)) return { source, everything: false };
  return { source, match: compilePattern(source), everything: coversEverything(source) };
}

/** The patterns a field stands for with these traits; a template without a value gives none. */
export function fieldPatterns(field: PatternField, traits: Traits): string[] {
  return field.match ? [field.source] : expandTemplate(field.source, traits);
}
