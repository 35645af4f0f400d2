// tctl rm KIND/NAME: removes one resource of any kind.
import { resolveKind, unknownKindMessage } from '../../core/resource-kinds.js';
import { UsageError } from '../usage-error.js';
import type { TctlDeps } from './deps.js';

export async function run(options: { resource: string }, deps: TctlDeps): Promise<void> {
  const [text, name, extra] = options.resource.split('/');
  if (!text || !name || extra !== undefined) throw new UsageError('write the resource as KIND/NAME, e.g. role/devs');
  const kind = resolveKind(text);
  if (!kind) throw new UsageError(unknownKindMessage(text));
  const client = await deps.admin();
  const answer = await client.call<{ reverted_to_builtin?: boolean }>(
    'DELETE',
    `/webapi/admin/resources/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`,
  );
  deps.out.stdout.write(
    answer.reverted_to_builtin
      ? `${kind} "${name}" has been deleted; the built-in ${kind} of that name applies again\n`
      : `${kind} "${name}" has been deleted\n`,
  );
}
