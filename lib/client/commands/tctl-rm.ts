// tctl rm KIND/NAME: removes one resource.
import { UsageError } from '../usage-error.js';
import type { TctlDeps } from './deps.js';

export async function run(options: { resource: string }, deps: TctlDeps): Promise<void> {
  const [kind, name] = options.resource.split('/');
  if (!kind || !name) throw new UsageError('write the resource as KIND/NAME, e.g. role/devs');
  const client = await deps.admin();
  await client.call('DELETE', `/webapi/admin/resources/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`);
  deps.out.stdout.write(`${kind} "${name}" has been deleted\n`);
}
