// tctl get KIND[/NAME]: resources as YAML documents.
import type { TctlDeps } from './deps.js';

export async function run(options: { resource: string }, deps: TctlDeps): Promise<void> {
  const client = await deps.admin();
  const [plural, name] = options.resource.split('/');
  // Teleport's tctl takes both "roles" and "role"; only the kind may be plural.
  const kind = plural!.replace(/s$/, '');
  const path = `/webapi/admin/resources/${encodeURIComponent(kind)}${name ? `/${encodeURIComponent(name)}` : ''}`;
  const answer = await client.call<{ items: unknown[] }>('GET', path);
  const { stringify } = await import('yaml');
  deps.out.stdout.write(answer.items.map((item) => stringify(item)).join('---\n'));
}
