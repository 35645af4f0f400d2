// The README's table of the agent's environment variables lists exactly the variables of the
// agent's schema, each with the default the schema applies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentEnvironmentSchema } from '../../lib/app/agent-environment.js';

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');

/** The rows of the table in the README's "The agent" section: variable name and default cell. */
function tableRows(): { name: string; fallback: string }[] {
  const start = readme.indexOf('\n## The agent\n');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  return section
    .split('\n')
    .filter((line) => /^\| `[A-Z0-9_]+` \|/.test(line))
    .map((line) => {
      const cells = line.split(' | ');
      return { name: /`([A-Z0-9_]+)`/.exec(cells[0]!)![1]!, fallback: cells.at(-1)!.replace(/ \|$/, '') };
    });
}

/** How the README writes the default of a variable: required, none (empty), or the value in backticks. */
function documentedDefault(name: string): string {
  const field = agentEnvironmentSchema.shape[name as keyof typeof agentEnvironmentSchema.shape];
  const parsed = field.safeParse(undefined);
  if (!parsed.success) return 'required';
  const value: unknown = parsed.data;
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return 'none';
  return `\`${String(value)}\``;
}

describe('the README documents the agent environment', () => {
  it('lists every variable of the schema, and nothing else, in the same order', () => {
    expect(tableRows().map((row) => row.name)).toEqual(Object.keys(agentEnvironmentSchema.shape));
  });

  it('gives each variable the default the schema applies', () => {
    for (const row of tableRows()) expect(row.fallback.startsWith(documentedDefault(row.name)), row.name).toBe(true);
  });
});
