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
  /** A label value is a template, so matching depends on the user's traits. */
  templatedLabels: boolean;
  /** Deny labels and no deny kubernetes_resources: the whole cluster is denied. */
  deniesWholeCluster: boolean;
  allowEntries: CompiledEntry[];
  denyEntries: CompiledEntry[];
  maxSessionTtlMs: number | undefined;
}

/** Kept on the role object itself (not enumerable, so never stored or printed): faster than a WeakMap. */
const COMPILED = Symbol('compiledRole');
type Carrier = { [COMPILED]?: CompiledRole };

export function compileRole(role: Role): CompiledRole {
  const carrier = role as Carrier;
  let result = carrier[COMPILED];
  if (!result) {
    result = build(role);
    if (Object.isExtensible(role)) Object.defineProperty(role, COMPILED, { value: result, enumerable: false });
  }
  return result;
}

/** Which roles apply on one cluster, by side. */
export interface ClusterRoles {
  allowing: CompiledRole[];
  /** Roles with deny kubernetes_resources whose deny labels apply to the cluster. */
  denying: CompiledRole[];
  /** A role whose deny labels match and that lists no deny resources: the whole cluster is refused. */
  deniedBy: CompiledRole | undefined;
}

export class CompiledRoleSet {
  private readonly memo = new Map<string, ClusterRoles>();
  private readonly templatedLabels: boolean;

  constructor(
    readonly source: readonly Role[],
    readonly roles: CompiledRole[],
  ) {
    this.templatedLabels = roles.some((role) => role.templatedLabels);
  }

  /** Same answer for the same labels; remembered unless a selector depends on the user's traits. */
  onCluster(labels: Record<string, string>, traits: Traits): ClusterRoles {
    if (this.templatedLabels) return this.evaluate(labels, traits);
    let key = '';
    for (const name in labels) key += `${name}\u0000${labels[name]}\u0001`;
    let result = this.memo.get(key);
    if (!result) {
      result = this.evaluate(labels, traits);
      if (this.memo.size >= 64) this.memo.clear();
      this.memo.set(key, result);
    }
    return result;
  }

  private evaluate(labels: Record<string, string>, traits: Traits): ClusterRoles {
    const result: ClusterRoles = { allowing: [], denying: [], deniedBy: undefined };
    for (const role of this.roles) {
      if (role.allowLabels(labels, traits)) result.allowing.push(role);
      if (!role.denyLabels(labels, traits)) continue;
      if (role.deniesWholeCluster) result.deniedBy ??= role;
      else if (role.denyEntries.length > 0) result.denying.push(role);
    }
    return result;
  }
}

const COMPILED_SET = Symbol('compiledRoleSet');
type SetCarrier = { [COMPILED_SET]?: CompiledRoleSet };

/** The compiled roles of a list, kept on the list: the agent's role cache hands out the same list. */
export function compileRoles(roles: readonly Role[]): CompiledRoleSet {
  const carrier = roles as SetCarrier;
  const cached = carrier[COMPILED_SET];
  // A list changed in place since is compiled again.
  if (cached && cached.roles.length === roles.length && cached.roles.every((c, i) => (roles[i] as Carrier)[COMPILED] === c)) {
    return cached;
  }
  const set = new CompiledRoleSet(roles, roles.map(compileRole));
  if (Object.isExtensible(roles)) Object.defineProperty(roles, COMPILED_SET, { value: set, enumerable: false, configurable: true });
  return set;
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
    templatedLabels: hasTemplate(allow.kubernetes_labels) || hasTemplate(deny.kubernetes_labels),
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

function hasTemplate(selector: LabelSelector | undefined): boolean {
  return Object.values(selector ?? {}).some((v) => (Array.isArray(v) ? v.some(isTemplate) : isTemplate(v)));
}

function labelsCheck(selector: LabelSelector | undefined): ClusterLabelsCheck {
  if (!hasTemplate(selector)) {
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
