// Teleport's role templates, expanded with a user's traits:
//   {{internal.x}}  {{external.x}}  {{external["x"]}}   (literal text may sit around the braces)
//   {{email.local(external.email)}}                      the part before the @
//   {{regexp.replace(external.x, "re", "repl")}}         $1 groups; values the regexp misses are dropped
// A multi-valued trait gives several values; a missing trait drops the entry. A value is parsed
// once and kept; the schema calls templateProblem so an invalid template never gets stored.
import type { Traits } from './identity.js';
import { type LinearRegex, compileLinearRegex } from './linear-regex.js';

type Transform = (value: string) => string | undefined;

export type ParsedValue =
  { kind: 'literal'; value: string } | { kind: 'template'; prefix: string; suffix: string; trait: string; transform?: Transform };

const parsed = new Map<string, ParsedValue | string>();
const MAX_CACHED = 10_000;

/** Why a value is not a valid template, or undefined when it is one or is plain text. */
export function templateProblem(value: string): string | undefined {
  const result = parseCached(value);
  return typeof result === 'string' ? result : undefined;
}

export function isTemplate(value: string): boolean {
  return value.includes('{{');
}

/** Expands every value; invalid templates expand to nothing (they cannot match anything). */
export function expandTemplates(values: readonly string[] | undefined, traits: Traits): string[] {
  if (!values || values.length === 0) return [];
  const out = new Set<string>();
  for (const value of values) for (const expanded of expandTemplate(value, traits)) out.add(expanded);
  return [...out];
}

export function expandTemplate(value: string, traits: Traits): string[] {
  const result = parseCached(value);
  if (typeof result === 'string') return [];
  if (result.kind === 'literal') return [result.value];
  const out: string[] = [];
  for (const traitValue of traits[result.trait] ?? []) {
    if (traitValue === '') continue;
    const transformed = result.transform ? result.transform(traitValue) : traitValue;
    if (transformed === undefined || transformed === '') continue;
    out.push(`${result.prefix}${transformed}${result.suffix}`);
  }
  return out;
}

function parseCached(value: string): ParsedValue | string {
  let result = parsed.get(value);
  if (result === undefined) {
    result = parseValue(value);
    if (parsed.size >= MAX_CACHED) parsed.clear();
    parsed.set(value, result);
  }
  return result;
}

/** A ParsedValue, or a message saying what is wrong with the template. */
export function parseValue(value: string): ParsedValue | string {
  const open = value.indexOf('{{');
  const close = value.indexOf('}}');
  if (open === -1) {
    return close === -1 ? { kind: 'literal', value } : `"${value}" has "}}" without "{{"; write a template as {{external.trait}}`;
  }
  if (close === -1 || close < open) return `"${value}" has "{{" without a closing "}}"`;
  const prefix = value.slice(0, open);
  const suffix = value.slice(close + 2);
  if (suffix.includes('{{') || suffix.includes('}}')) return `"${value}" has more than one {{...}} expression; use one per value`;
  const body = value.slice(open + 2, close).trim();
  const expression = parseExpression(body);
  if (typeof expression === 'string') return `"${value}": ${expression}`;
  return { kind: 'template', prefix, suffix, ...expression };
}

const VARIABLE = /^(internal|external)\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*"([^"]+)"\s*\])$/;
const CALL = /^([a-z]+\.[a-z_]+)\s*\(([\s\S]*)\)$/;

function parseExpression(body: string): { trait: string; transform?: Transform } | string {
  const variable = parseVariable(body);
  if (variable !== undefined) return { trait: variable };
  const call = CALL.exec(body);
  if (!call) {
    return `not a template; write {{internal.<trait>}}, {{external.<trait>}}, {{email.local(...)}} or {{regexp.replace(...)}}`;
  }
  const [, name, argText] = call;
  const args = splitArguments(argText!);
  if (typeof args === 'string') return args;
  const trait = args[0] === undefined ? undefined : parseVariable(args[0]);
  if (trait === undefined) return `the first argument of ${name} must be internal.<trait> or external.<trait>`;
  if (name === 'email.local') {
    if (args.length !== 1) return 'email.local takes one argument, e.g. {{email.local(external.email)}}';
    return { trait, transform: emailLocal };
  }
  if (name === 'regexp.replace') {
    if (args.length !== 3) return 'regexp.replace takes three arguments: {{regexp.replace(external.x, "regexp", "replacement")}}';
    const pattern = stringLiteral(args[1]!);
    const replacement = stringLiteral(args[2]!);
    if (pattern === undefined || replacement === undefined)
      return 'the regexp and the replacement of regexp.replace must be quoted strings';
    let regex: LinearRegex;
    try {
      regex = compileLinearRegex(pattern);
    } catch (error) {
      return `regexp.replace has an invalid regexp "${pattern}" (${(error as Error).message})`;
    }
    const jsReplacement = goReplacement(replacement);
    // Teleport drops a value the expression does not match rather than passing it through.
    return { trait, transform: (v) => (regex.test(v) ? regex.replaceAll(v, jsReplacement) : undefined) };
  }
  return `unknown function ${name}; Kubeport supports email.local and regexp.replace (the name is regexp, not regex)`;
}

function parseVariable(text: string): string | undefined {
  const match = VARIABLE.exec(text.trim());
  return match ? (match[2] ?? match[3]) : undefined;
}

/** Splits on commas outside quoted strings. */
function splitArguments(text: string): string[] | string {
  const args: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote) {
      current += char;
      if (char === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === '`') {
      quote = char;
      current += char;
    } else if (char === ',') {
      args.push(current.trim());
      current = '';
    } else current += char;
  }
  if (quote) return 'a quoted argument is not closed';
  if (current.trim() !== '' || args.length > 0) args.push(current.trim());
  return args;
}

function stringLiteral(text: string): string | undefined {
  if (text.length >= 2 && text.startsWith('`') && text.endsWith('`')) return text.slice(1, -1);
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return undefined;
  try {
    return JSON.parse(text) as string;
  } catch {
    return undefined;
  }
}

/** Go's ${1}, ${name} and $name in a replacement, written the way String.replace reads them. */
function goReplacement(replacement: string): string {
  return replacement.replace(/\$\{(\d+)\}|\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)/g, (_, digits, braced, bare) =>
    digits !== undefined ? `$${digits}` : `$<${braced ?? bare}>`,
  );
}

function emailLocal(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return undefined;
  // Display-name forms ("Alice <alice@x>") are parsed the way Go's mail.ParseAddress does.
  const angle = /<([^<>]+)>\s*$/.exec(address);
  const bare = angle ? angle[1]! : address;
  const local = bare.slice(0, bare.lastIndexOf('@'));
  return local === '' ? undefined : local;
}
