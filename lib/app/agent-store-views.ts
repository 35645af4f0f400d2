// What the agent reads of the resource store at each request, in local mode and on Fargate alike:
// roles and users as they are now (cached for a moment, so a burst of requests costs one read),
// and locks through a watcher that polls the store, as every agent of a deployment sees them.
import { LockWatcher } from '../../agent/locks.js';
import { cachedLoader, cachedRoles } from '../core/fresh-cache.js';
import type { Clock, ResourceStore } from '../core/ports.js';
import type { User } from '../core/resources.js';
import { loadRoles } from '../services/roles.js';

export function agentStoreViews(deps: { resources: ResourceStore; clock: Clock; log: (message: string) => void }) {
  const { resources, clock } = deps;
  return {
    loadRoles: cachedRoles((names) => loadRoles(resources, names), clock),
    loadUser: cachedLoader(async (name) => (await resources.get<User>('user', name))?.body, clock),
    locks: new LockWatcher({ store: resources, clock, log: deps.log }),
  };
}
