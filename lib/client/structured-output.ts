// --format for commands that print a list: text (a table for people), or json / yaml (for
// scripts; the same fields either way). yaml is loaded only when asked for.
import { UsageError } from './usage-error.js';
import type { Writer } from './commands/deps.js';

export const STRUCTURED_FORMATS = ['text', 'json', 'yaml'] as const;
export type StructuredFormat = (typeof STRUCTURED_FORMATS)[number];

/** The format asked for (default text); anything else is refused naming the ones there are. */
export function structuredFormat(raw: string | undefined): StructuredFormat {
  if (raw === undefined) return 'text';
  if ((STRUCTURED_FORMATS as readonly string[]).includes(raw)) return raw as StructuredFormat;
  throw new UsageError(`--format ${raw} is not one of ${STRUCTURED_FORMATS.join(', ')}`);
}

/** Writes `value` as JSON or YAML; false for text, which the command prints its own way. */
export async function writeStructured(out: Writer, format: StructuredFormat, value: unknown): Promise<boolean> {
  if (format === 'json') {
    out.write(`${JSON.stringify(value, null, 2)}\n`);
    return true;
  }
  if (format === 'yaml') {
    const { stringify } = await import('yaml');
    out.write(stringify(value));
    return true;
  }
  return false;
}
