// What tctl does: users, roles and clusters, each change audited.
import { ConflictError, KubeportError, badRequest, notFound } from '../core/errors.js';
import type { CertifiedIdentity } from '../core/identity.js';
import { nearestName } from '../core/nearest-name.js';
import type { KubeCluster, User } from '../core/resources.js';
import { parseResource } from '../core/resources.js';
import { ADMIN_USER, revocationTime } from '../core/user-standing.js';
import { auditEvent } from './audit-events.js';
import type { ServiceDeps } from './deps.js';
import { LocalUsers } from './local-users.js';
import { listRoles } from './roles.js';
import { newIncarnation, signInConnector } from './user-records.js';

const USER_UPDATE_RETRIES = 5;

export interface AddUserRequest {
  name: string;
  roles: string[];
  kubernetesGroups: string[];
  kubernetesUsers: string[];
}

/** tctl users update: each list given replaces the user's; one left out stays as it is. */
export interface UpdateUserRequest {
  roles?: string[];
  kubernetesGroups?: string[];
  kubernetesUsers?: string[];
}

export class AdminService {
  private readonly localUsers: LocalUsers;

  constructor(private readonly deps: ServiceDeps) {
    this.localUsers = new LocalUsers(deps);
  }

  async addUser(caller: CertifiedIdentity, request: AddUserRequest): Promise<{ user: User; invite: string; expires: string }> {
    if (request.roles.length === 0) throw badRequest('give the user at least one role: --roles=access');
    if (request.name === ADMIN_USER)
      throw badRequest(`${ADMIN_USER} is the name of the local admin identity and reserved; choose another user name`);
    await this.refuseUnknownRoles(request.roles);
    const document = {
      kind: 'user',
      version: 'v2',
      metadata: { name: request.name },
      spec: {
        roles: request.roles,
        traits: { kubernetes_groups: request.kubernetesGroups, kubernetes_users: request.kubernetesUsers, logins: [] },
        created_by: { connector: 'local', time: this.deps.clock.now().toISOString(), incarnation: newIncarnation(this.deps.random) },
        // A user removed and added again must not get back the old user's certificates.
        revoked_before: revocationTime(this.deps.clock.now()).toISOString(),
      },
    };
    const parsed = parseResource(document, 'user');
    if (!parsed.ok) throw badRequest(parsed.message);
    const user = parsed.resource as User;
    try {
      await this.deps.resources.put('user', user.metadata.name, user, { expectRevision: null });
    } catch (error) {
      if (error instanceof KubeportError && error.code === 'conflict') throw await this.existingUserError(user.metadata.name);
      throw error;
    }
    // Invites and credentials an earlier user of the name left behind go before the new invite.
    await this.localUsers.forget(user.metadata.name);
    const invite = await this.localUsers.createInvite(user);
    await this.deps.audit.emit(
      auditEvent(this.deps, 'user.create', { user: caller.username, kind: 'user', name: user.metadata.name, roles: user.spec.roles }),
    );
    return { user, invite: invite.token, expires: invite.expires };
  }

  /**
   * Replaces the roles or Kubernetes traits given; certificates issued before stop working (they
   * carry the old ones), as for any change of a user. Invites and credentials stay valid.
   */
  async updateUser(caller: CertifiedIdentity, name: string, request: UpdateUserRequest): Promise<{ user: User; changed: boolean }> {
    if (request.roles === undefined && request.kubernetesGroups === undefined && request.kubernetesUsers === undefined) {
      throw badRequest('nothing to update; give --set-roles, --set-kubernetes-groups or --set-kubernetes-users');
    }
    if (request.roles !== undefined) {
      if (request.roles.length === 0) throw badRequest('give the user at least one role: --set-roles=access');
      await this.refuseUnknownRoles(request.roles);
    }
    for (let attempt = 0; ; attempt++) {
      const stored = await this.deps.resources.get<User>('user', name);
      if (!stored) throw notFound(`user ${name} not found; add it with tctl users add ${name} --roles=...`);
      refuseConnectorUpdate(stored.body);
      const traits = { ...stored.body.spec.traits };
      if (request.kubernetesGroups !== undefined) traits.kubernetes_groups = request.kubernetesGroups;
      if (request.kubernetesUsers !== undefined) traits.kubernetes_users = request.kubernetesUsers;
      const roles = request.roles ?? stored.body.spec.roles;
      // The same roles and traits again: no write, and certificates already out keep working.
      if (sameRoles(roles, stored.body.spec.roles) && sameTraits(traits, stored.body.spec.traits))
        return { user: stored.body, changed: false };
      const user: User = {
        ...stored.body,
        spec: {
          ...stored.body.spec,
          roles,
          traits,
          revoked_before: revocationTime(this.deps.clock.now(), stored.body).toISOString(),
        },
      };
      try {
        await this.deps.resources.put('user', name, user, { expectRevision: stored.revision });
      } catch (error) {
        if (!(error instanceof KubeportError && error.code === 'conflict') || attempt >= USER_UPDATE_RETRIES) throw error;
        continue;
      }
      await this.deps.audit.emit(
        auditEvent(this.deps, 'user.update', {
          user: caller.username,
          kind: 'user',
          name,
          roles: user.spec.roles,
          kubernetes_groups: traits.kubernetes_groups ?? [],
          kubernetes_users: traits.kubernetes_users ?? [],
        }),
      );
      return { user, changed: true };
    }
  }

  private async refuseUnknownRoles(roles: string[]): Promise<void> {
    const known = (await listRoles(this.deps.resources)).map((r) => r.metadata.name);
    const unknown = roles.filter((role) => !known.includes(role));
    if (unknown.length === 0) return;
    const hints = unknown.map((role) => nearestName(role, known)).filter((near) => near !== undefined);
    const meant = hints.length > 0 ? `did you mean ${hints.join(', ')}? ` : '';
    throw badRequest(`role ${unknown.join(', ')} does not exist; ${meant}known roles: ${known.sort().join(', ')}`);
  }

  async listUsers(): Promise<User[]> {
    return (await this.deps.resources.list<User>('user')).map((r) => r.body);
  }

  /**
   * A user who lost the password or the authenticator starts over: certificates issued until now
   * stop working, password, TOTP secret, invites and pending enrollment go, and a new invite is
   * made; a login lockout ends. The user keeps its incarnation, roles and traits.
   */
  async resetUser(caller: CertifiedIdentity, name: string): Promise<{ user: User; invite: string; expires: string }> {
    const user = await this.revokeCertificatesOf(name);
    await this.localUsers.forget(name);
    // Failed logins with the lost password must not keep the user out once enrolled again.
    await this.localUsers.unlock(name);
    const invite = await this.localUsers.createInvite(user);
    await this.deps.audit.emit(auditEvent(this.deps, 'user.reset', { user: caller.username, name }));
    return { user, invite: invite.token, expires: invite.expires };
  }

  /** users add of a name in use: a local user gets a new invite with reset, a GitHub user none at all. */
  private async existingUserError(name: string): Promise<ConflictError> {
    const existing = await this.deps.resources.get<User>('user', name);
    const connector = existing ? signInConnector(existing.body) : undefined;
    if (connector !== undefined)
      return new ConflictError(
        `user ${name} already exists and signs in with GitHub connector ${connector}; their access follows their GitHub teams (change teams_to_roles in the connector), and they get no invite or password`,
      );
    return new ConflictError(`user ${name} already exists; to give them a new invite, run tctl users reset ${name}`);
  }

  /** Ends a lockout after failed logins early; the user logs in with the same password and TOTP. */
  async unlockUser(caller: CertifiedIdentity, name: string): Promise<{ failuresCleared: number }> {
    if (!(await this.deps.resources.get('user', name))) throw notFound(`user ${name} not found`);
    const result = await this.localUsers.unlock(name);
    await this.deps.audit.emit(
      auditEvent(this.deps, 'user.unlock', { user: caller.username, name, failures_cleared: result.failuresCleared }),
    );
    return result;
  }

  /** What tctl status shows besides the ping: how many users and roles there are. */
  async counts(): Promise<{ users: number; roles: number }> {
    const [users, roles] = await Promise.all([this.deps.resources.list('user'), listRoles(this.deps.resources)]);
    return { users: users.length, roles: roles.length };
  }

  async removeUser(caller: CertifiedIdentity, name: string): Promise<void> {
    // The user goes first, so no enrollment or login that starts now finds it; then its invites
    // and credentials, also when the user itself was already gone.
    const removed = await this.deps.resources.delete('user', name);
    await this.localUsers.forget(name);
    if (!removed) throw notFound(`user ${name} not found`);
    await this.deps.audit.emit(auditEvent(this.deps, 'user.delete', { user: caller.username, kind: 'user', name }));
  }

  private async revokeCertificatesOf(name: string): Promise<User> {
    for (let attempt = 0; ; attempt++) {
      const stored = await this.deps.resources.get<User>('user', name);
      if (!stored) throw notFound(`user ${name} not found; add it with tctl users add ${name} --roles=...`);
      refuseConnectorUser(stored.body);
      const revokedBefore = revocationTime(this.deps.clock.now(), stored.body).toISOString();
      const user: User = { ...stored.body, spec: { ...stored.body.spec, revoked_before: revokedBefore } };
      try {
        await this.deps.resources.put('user', name, user, { expectRevision: stored.revision });
        return user;
      } catch (error) {
        if (!(error instanceof KubeportError && error.code === 'conflict') || attempt >= USER_UPDATE_RETRIES) throw error;
      }
    }
  }

  async listClusters(): Promise<KubeCluster[]> {
    return (await this.deps.resources.list<KubeCluster>('kube_cluster')).map((r) => r.body);
  }
}

/** A GitHub user's access must end with their team membership: no invite or password may outlive it. */
/** A GitHub user's roles and traits are rewritten from their teams at each login; an edit here would not last. */
function refuseConnectorUpdate(user: User): void {
  const connector = signInConnector(user);
  if (connector === undefined) return;
  throw badRequest(
    `user ${user.metadata.name} signs in with GitHub connector ${connector}, which sets their roles and Kubernetes groups from their teams at each login; change the connector's teams_to_roles or teams_to_logins instead (tctl get github/${connector})`,
  );
}

export function refuseConnectorUser(user: User): void {
  const connector = signInConnector(user);
  if (connector === undefined) return;
  const name = user.metadata.name;
  throw badRequest(
    `user ${name} signs in with GitHub connector ${connector} and their access follows their GitHub teams, so they get no invite or password; change their access in the connector's teams_to_roles (tctl get github/${connector})`,
  );
}

const sameRoles = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/** Same keys with the same values; a list's order counts only where it could matter, so it is kept as given. */
function sameTraits(a: Record<string, string[]>, b: Record<string, string[]>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => JSON.stringify(a[key] ?? []) === JSON.stringify(b[key] ?? []));
}
