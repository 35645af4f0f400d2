// Checks one document of a tctl file and turns every schema issue into a problem a person can
// fix: the field path, what is wrong and what to write instead, with the nearest valid field,
// kind or value when the input looks like a typo. All issues are reported, not only the first.
import type * as z from 'zod';
import { nearestName } from './nearest-name.js';
import { type ResourceKind, isResourceKind, resourceSchemas } from './resources.js';
import { droppedFields, fieldsAt } from './schema-fields.js';

export type FieldPath = (string | number)[];

export interface ResourceProblem {
  /** 0-based position of the document in its file. */
  document: number;
  kind?: string;
  name?: string;
  path: FieldPath;
  /** What is wrong and how to fix it. */
  message: string;
  /** 'exists' when the only trouble is a resource already there (the fix is --force). */
  reason?: 'invalid' | 'exists';
}

export type CheckedDocument =
  | { ok: true; kind: ResourceKind; name: string; resource: unknown }
  | { ok: false; kind?: string; name?: string; problems: ResourceProblem[] };

/** `spec.allow.kubernetes_resources[0].verbs` */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, part) => (typeof part === 'number' ? `${text}[${part}]` : text === '' ? String(part) : `${text}.${String(part)}`),
    '',
  );
}

/** One line naming the file, the document, the field and the fix. */
export function describeProblem(source: string, problem: ResourceProblem): string {
  const what = problem.kind && problem.name ? ` (${problem.kind} "${problem.name}")` : problem.kind ? ` (${problem.kind})` : '';
  const field = problem.path.length > 0 ? `${formatPath(problem.path)}: ` : '';
  return `${source}, document ${problem.document + 1}${what}: ${field}${problem.message}`;
}

const kinds = () => Object.keys(resourceSchemas);

export function checkDocument(document: unknown, index: number): CheckedDocument {
  const problem = (path: FieldPath, message: string, kind?: string, name?: string): ResourceProblem => ({
    document: index,
    ...(kind ? { kind } : {}),
    ...(name ? { name } : {}),
    path,
    message,
    reason: 'invalid',
  });
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return { ok: false, problems: [problem([], 'a document must be a mapping with kind, version, metadata and spec')] };
  }
  const rawKind = (document as { kind?: unknown }).kind;
  const rawName = (document as { metadata?: { name?: unknown } }).metadata?.name;
  const name = typeof rawName === 'string' && rawName !== '' ? rawName : undefined;
  if (rawKind === undefined) {
    return { ok: false, problems: [problem(['kind'], `missing; add kind: with one of ${kinds().join(', ')}`, undefined, name)] };
  }
  if (typeof rawKind !== 'string' || !isResourceKind(rawKind)) {
    const near = typeof rawKind === 'string' ? nearestName(rawKind, kinds()) : undefined;
    const hint = near ? `did you mean ${near}? ` : '';
    return {
      ok: false,
      problems: [problem(['kind'], `unknown kind ${JSON.stringify(rawKind)}; ${hint}kinds are ${kinds().join(', ')}`, undefined, name)],
    };
  }
  const schema = resourceSchemas[rawKind] as unknown as z.ZodType;
  const result = schema.safeParse(document);
  const dropped = droppedFields(schema, document)
    .filter((path) => !isTeleportBookkeeping(path))
    .map((path) => {
      const key = String(path[path.length - 1]);
      return problem(
        path,
        unknownFieldMessage(key, fieldsAt(schema, path.slice(0, -1)), valueAt(document, path.slice(0, -1))),
        rawKind,
        name,
      );
    });
  if (result.success && dropped.length === 0) {
    return { ok: true, kind: rawKind, name: (result.data as { metadata: { name: string } }).metadata.name, resource: result.data };
  }
  const issues = result.success ? [] : result.error.issues;
  const problems = issues.flatMap((issue) =>
    explainIssue(schema, document, issue, []).map(({ path, message }) => problem(path, message, rawKind, name)),
  );
  return { ok: false, kind: rawKind, ...(name ? { name } : {}), problems: [...problems, ...dropped] };
}

type Issue = z.core.$ZodIssue;

/** Metadata Teleport's tctl get prints and Kubeport has no use for: a file from Teleport loads as it is. */
const isTeleportBookkeeping = (path: FieldPath) =>
  path.length === 2 && path[0] === 'metadata' && ['namespace', 'revision', 'id'].includes(String(path[1]));

/** The nearest field not yet written, else what is allowed here. */
function unknownFieldMessage(key: string, fields: string[], siblings: unknown): string {
  const present = typeof siblings === 'object' && siblings !== null ? siblings : {};
  const near = nearestName(key, fields);
  if (near && near in present) return `unknown field; ${near} is already set, so remove this one`;
  if (near) return `unknown field; did you mean ${near}?`;
  return fields.length > 0 ? `unknown field; fields allowed here: ${fields.join(', ')}` : 'unknown field; remove it';
}

function valueAt(document: unknown, path: readonly PropertyKey[]): unknown {
  let value = document;
  for (const part of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

const expectedWords: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function explainIssue(schema: z.ZodType, document: unknown, issue: Issue, prefix: FieldPath): { path: FieldPath; message: string }[] {
  const path: FieldPath = [...prefix, ...(issue.path as FieldPath)];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const fields = fieldsAt(schema, path);
      return issue.keys.map((key) => ({ path: [...path, key], message: unknownFieldMessage(key, fields, valueAt(document, path)) }));
    }
    case 'invalid_type': {
      const value = valueAt(document, path);
      const expected = expectedWords[issue.expected] ?? issue.expected;
      if (value === undefined) return [{ path, message: `missing; add ${expected}` }];
      const listFix = issue.expected === 'array' && typeof value === 'string' ? `; write a list, e.g. [${value}]` : '';
      return [{ path, message: `expected ${expected}, got ${describeValue(value)}${listFix}` }];
    }
    case 'invalid_value': {
      const value = valueAt(document, path);
      const allowed = issue.values.map(String);
      const near = typeof value === 'string' ? nearestName(value, allowed) : undefined;
      return [
        {
          path,
          message: `${JSON.stringify(value ?? null)} is not allowed; ${near ? `did you mean ${near}? ` : ''}use ${allowed.join(' or ')}`,
        },
      ];
    }
    case 'invalid_union': {
      const branches = (issue.errors ?? []).filter((branch) => branch.length > 0);
      if (branches.length === 0) {
        const value = valueAt(document, path);
        const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
        const near = typeof value === 'string' && options.length > 0 ? nearestName(value, options) : undefined;
        const choice = options.length > 0 ? `; use ${options.join(' or ')}` : '';
        return [{ path, message: `${JSON.stringify(value ?? null)} is not allowed${near ? `; did you mean ${near}?` : ''}${choice}` }];
      }
      // A value of the wrong shape for every alternative: name all shapes that would do.
      const shapes = branches.every((b) => b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === 0);
      if (shapes) {
        const expected = branches.map((b) => expectedWords[(b[0] as { expected: string }).expected] ?? 'something else');
        return [{ path, message: `expected ${expected.join(' or ')}, got ${describeValue(valueAt(document, path))}` }];
      }
      const closest = branches.reduce((best, branch) => (branch.length < best.length ? branch : best));
      return closest.flatMap((inner) => explainIssue(schema, document, inner, path));
    }
    default:
      return [{ path, message: issue.message }];
  }
}
