// tctl create -f FILE [--force]: creates or updates the resources of a YAML file. Every document
// is checked before the first is sent, so a bad file changes nothing.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { parseResource } from '../../core/resources.js';
import { UsageError } from '../usage-error.js';
import type { TctlDeps } from './deps.js';

export interface CreateOptions {
  file: string;
  force: boolean;
}

export async function run(options: CreateOptions, deps: TctlDeps): Promise<void> {
  let text: string;
  try {
    text = readFileSync(options.file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const documents = parseAllDocuments(text).filter((d) => d.contents !== null);
  const source = (index: number) => (documents.length > 1 ? `${options.file} (document ${index + 1})` : options.file);
  const problems = documents.flatMap((d, i) => d.errors.map((e) => `${source(i)}: ${e.message.split('\n')[0]}`));
  if (problems.length > 0) throw new UsageError(`${problems[0]} (nothing was changed)`);
  if (documents.length === 0) throw new UsageError(`${options.file} holds no resource (nothing was changed)`);
  const parsed = documents.map((d, i) => parseResource(d.toJS(), source(i)));
  const invalid = parsed.find((p) => !p.ok);
  if (invalid && !invalid.ok) throw new UsageError(`${invalid.message} (nothing was changed)`);
  const client = await deps.admin();
  for (const [index, document] of documents.entries()) {
    const result = await client.call<{ kind: string; name: string; created: boolean }>('POST', '/webapi/admin/resources', {
      document: document.toJS(),
      source: source(index),
      overwrite: options.force,
    });
    deps.out.stdout.write(`${result.kind} "${result.name}" has been ${result.created ? 'created' : 'updated'}\n`);
  }
}
