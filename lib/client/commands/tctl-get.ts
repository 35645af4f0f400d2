// tctl get KIND[/NAME] [--format=yaml|json|text]: resources as YAML documents separated by ---
// (the default, ready for tctl create -f), a JSON array, or a table. Secrets are never shown.
import { resolveKind, unknownKindMessage } from '../../core/resource-kinds.js';
import { resourceTable } from '../resource-table.js';
import { UsageError } from '../usage-error.js';
import type { TctlDeps } from './deps.js';

export type GetFormat = 'yaml' | 'json' | 'text';

export async function run(options: { resource: string; format?: string }, deps: TctlDeps): Promise<void> {
  const format = options.format ?? 'yaml';
  if (format !== 'yaml' && format !== 'json' && format !== 'text') {
    throw new UsageError(`--format=${format} is not a format; use yaml, json or text`);
  }
  const [text, name, extra] = options.resource.split('/');
  if (!text || extra !== undefined || name === '') throw new UsageError('write KIND or KIND/NAME, e.g. roles or role/devs');
  const kind = resolveKind(text);
  if (!kind) throw new UsageError(unknownKindMessage(text));
  const client = await deps.admin();
  const path = `/webapi/admin/resources/${encodeURIComponent(kind)}${name ? `/${encodeURIComponent(name)}` : ''}`;
  const { items } = await client.call<{ items: unknown[] }>('GET', path);
  if (format === 'json') {
    deps.out.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
  } else if (format === 'text') {
    deps.out.stdout.write(resourceTable(kind, items));
  } else {
    const { stringify } = await import('yaml');
    deps.out.stdout.write(items.map((item) => stringify(item)).join('---\n'));
  }
}
