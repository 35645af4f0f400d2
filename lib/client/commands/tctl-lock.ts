// tctl lock --user=NAME|--role=NAME|--login=NAME|--access-request=ID [--message=TEXT] [--ttl=5m|--expires=RFC3339]:
// creates a lock, as Teleport's tctl lock does: a new random name, printed so the lock can be
// removed with tctl rm lock/NAME. Same as tctl create of the lock document, and audited the same.
import { randomUUID } from 'node:crypto';
import { parseDuration } from '../../core/duration.js';
import type { AdminClient } from '../admin-client.js';
import { ClientError } from '../api-client.js';
import { UsageError } from '../usage-error.js';
import type { TctlDeps } from './deps.js';

export interface LockOptions {
  user?: string;
  role?: string;
  login?: string;
  accessRequest?: string;
  message?: string;
  ttl?: string;
  expires?: string;
}

/** The lock's expiry as RFC 3339, from --ttl (counted from now) or --expires; none: until removed. */
function expiry(options: LockOptions, now: Date): string | undefined {
  if (options.ttl !== undefined && options.expires !== undefined) throw new UsageError('use only one of --expires and --ttl');
  if (options.ttl !== undefined) {
    let ms: number;
    try {
      ms = parseDuration(options.ttl);
    } catch {
      throw new UsageError(`--ttl=${options.ttl} is not a duration; write it like 5m, 2h or 1h30m`);
    }
    if (ms <= 0) throw new UsageError('--ttl must be longer than 0; leave it out for a lock that lasts until tctl rm');
    return new Date(now.getTime() + ms).toISOString();
  }
  if (options.expires !== undefined) {
    const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(options.expires)
      ? Date.parse(options.expires)
      : NaN;
    if (Number.isNaN(at)) throw new UsageError(`--expires=${options.expires} is not an RFC 3339 time; write it like 2026-12-02T18:00:00Z`);
    return options.expires;
  }
  return undefined;
}

export async function run(options: LockOptions, deps: TctlDeps & { newLockName?: () => string }): Promise<void> {
  const target = {
    ...(options.user !== undefined ? { user: options.user } : {}),
    ...(options.role !== undefined ? { role: options.role } : {}),
    ...(options.login !== undefined ? { login: options.login } : {}),
    ...(options.accessRequest !== undefined ? { access_request: options.accessRequest } : {}),
  };
  if (Object.keys(target).length === 0) {
    throw new UsageError('say whom to lock: --user=NAME, --role=NAME, --login=NAME or --access-request=ID');
  }
  if (Object.values(target).some((value) => value === '')) throw new UsageError('a lock target must not be empty');
  const expires = expiry(options, deps.clock.now());
  const name = deps.newLockName?.() ?? randomUUID();
  const document = {
    kind: 'lock',
    version: 'v2',
    metadata: { name },
    spec: {
      target,
      ...(options.message !== undefined && options.message !== '' ? { message: options.message } : {}),
      ...(expires !== undefined ? { expires } : {}),
    },
  };
  const client = await deps.admin();
  await client.call('POST', '/webapi/admin/resources', { documents: [document], source: 'tctl lock', overwrite: false });
  deps.out.stdout.write(`Created a lock with name "${name}".\n`);
  for (const [kind, value] of [
    ['user', options.user],
    ['role', options.role],
  ] as const) {
    if (value !== undefined && !(await exists(client, kind, value))) {
      deps.out.stderr.write(
        `Warning: no ${kind} named "${value}" exists yet; the lock applies once one does. Check the name with tctl get ${kind}s, or remove the lock with tctl rm lock/${name}.\n`,
      );
    }
  }
}

/**
 * Whether a user or role of that name exists. A lock ahead of its user is allowed (as Teleport
 * allows it), but a typo locks nobody, so tctl says so. Unknown when the caller may not read the
 * kind: then no warning, rather than a false one.
 */
async function exists(client: AdminClient, kind: 'user' | 'role', name: string): Promise<boolean> {
  try {
    await client.call('GET', `/webapi/admin/resources/${kind}/${encodeURIComponent(name)}`);
    return true;
  } catch (error) {
    if (error instanceof ClientError && error.status === 404) return false;
    return true;
  }
}
