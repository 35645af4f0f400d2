// How a user document becomes the stored user, whoever writes it (tctl create, users add,
// users update): the server's incarnation and a fresh revoked_before, never the document's.
import type { Random, Clock } from '../core/ports.js';
import type { User } from '../core/resources.js';
import { revocationTime } from '../core/user-standing.js';

export function newIncarnation(random: Random): string {
  return Buffer.from(random.bytes(16)).toString('hex');
}

/**
 * New roles or traits apply to new certificates only; the ones already out stop working, and so
 * do those of an earlier user of the same name. The incarnation is the server's: kept across
 * changes (invites and credentials stay valid), new for a new user, never taken from the document.
 */
export function userToStore(deps: { clock: Clock; random: Random }, user: User, existing: User | undefined): User {
  const incarnation = existing ? existing.spec.created_by?.incarnation : newIncarnation(deps.random);
  const createdBy = { ...user.spec.created_by };
  delete createdBy.incarnation;
  if (incarnation !== undefined) createdBy.incarnation = incarnation;
  const spec = { ...user.spec, revoked_before: revocationTime(deps.clock.now(), existing).toISOString() };
  return { ...user, spec: Object.keys(createdBy).length > 0 ? { ...spec, created_by: createdBy } : spec };
}

/**
 * The connector a user signs in with when it is not a local user (a GitHub user), else undefined.
 * Such a user's access follows the connector (its teams), so it gets no invite, password or local
 * login: one would outlive a removal from the team.
 */
export function signInConnector(user: User): string | undefined {
  const github = user.spec.github_identities?.[0];
  if (github) return github.connector_id;
  const connector = user.spec.created_by?.connector;
  return connector !== undefined && connector !== 'local' ? connector : undefined;
}
