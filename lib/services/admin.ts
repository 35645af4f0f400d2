// What tctl does: users, roles and clusters, each change audited.
import { ConflictError, KubeportError, accessDenied, badRequest, notFound } from '../core/errors.js';
import type { CertifiedIdentity } from '../core/identity.js';
import type { KubeCluster, ResourceKind, Role, User } from '../core/resources.js';
import { isResourceKind, parseResource } from '../core/resources.js';
import type { GitHubConnector, StoredGitHubConnector } from '../core/github-connector.js';
import { redactResource } from '../core/resource-redaction.js';
import { revocationTime } from '../core/user-standing.js';
import { auditEvent } from './audit-events.js';
import type { ServiceDeps } from './deps.js';
import { sealConnectorSecret } from './github-connectors.js';
import { LocalUsers } from './local-users.js';
import { listRoles, loadRoles } from './roles.js';

const USER_UPDATE_RETRIES = 5;

export interface AddUserRequest {
  name: string;
  roles: string[];
  kubernetesGroups: string[];
  kubernetesUsers: string[];
}

export class AdminService {
  private readonly localUsers: LocalUsers;

  constructor(private readonly deps: ServiceDeps) {
    this.localUsers = new LocalUsers(deps);
  }

  /** Refuses unless a role of the caller, as it is now, allows `verb` on `resource`. */
  async authorize(caller: CertifiedIdentity, resource: string, verb: string): Promise<void> {
    const roles = await loadRoles(this.deps.resources, caller.roles);
    const allows = (rules: { resources: string[]; verbs: string[] }[] | undefined) =>
      (rules ?? []).some(
        (rule) =>
          (rule.resources.includes('*') || rule.resources.includes(resource)) && (rule.verbs.includes('*') || rule.verbs.includes(verb)),
      );
    if (roles.some((role) => allows(role.spec.deny.rules)) || !roles.some((role) => allows(role.spec.allow.rules))) {
      throw accessDenied(`your roles (${caller.roles.join(', ')}) do not allow ${verb} on ${resource}`);
    }
  }

  async addUser(caller: CertifiedIdentity, request: AddUserRequest): Promise<{ user: User; invite: string; expires: string }> {
    const known = new Set((await listRoles(this.deps.resources)).map((r) => r.metadata.name));
    const unknown = request.roles.filter((role) => !known.has(role));
    if (request.roles.length === 0) throw badRequest('give the user at least one role: --roles=access');
    if (unknown.length > 0) throw badRequest(`role ${unknown.join(', ')} does not exist; known roles: ${[...known].sort().join(', ')}`);
    const document = {
      kind: 'user',
      version: 'v2',
      metadata: { name: request.name },
      spec: {
        roles: request.roles,
        traits: { kubernetes_groups: request.kubernetesGroups, kubernetes_users: request.kubernetesUsers, logins: [] },
        created_by: { connector: 'local', time: this.deps.clock.now().toISOString(), incarnation: this.newIncarnation() },
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
      if (error instanceof KubeportError && error.code === 'conflict')
        throw new ConflictError(
          `user ${user.metadata.name} already exists; to give them a new invite, run tctl users reset ${user.metadata.name}`,
        );
      throw error;
    }
    // Invites and credentials an earlier user of the name left behind go before the new invite.
    await this.localUsers.forget(user.metadata.name);
    const invite = await this.localUsers.createInvite(user);
    await this.deps.audit.emit(
      auditEvent(this.deps, 'user.create', { user: caller.username, name: user.metadata.name, roles: user.spec.roles }),
    );
    return { user, invite: invite.token, expires: invite.expires };
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
    await this.deps.audit.emit(auditEvent(this.deps, 'user.delete', { user: caller.username, name }));
  }

  async getResources(kind: string, name?: string): Promise<unknown[]> {
    if (!isResourceKind(kind)) throw badRequest(`unknown kind ${kind}; use role, user, kube_cluster or github`);
    if (kind === 'role') {
      const roles: Role[] = await listRoles(this.deps.resources);
      if (!name) return roles;
      const named = roles.filter((r) => r.metadata.name === name);
      if (named.length === 0) throw notFound(`role ${name} not found`);
      return named;
    }
    if (name) {
      const one = await this.deps.resources.get(kind, name);
      if (!one) throw notFound(`${kind} ${name} not found`);
      return [redactResource(kind, one.body)];
    }
    return (await this.deps.resources.list(kind)).map((r) => redactResource(kind, r.body));
  }

  async createResource(
    caller: CertifiedIdentity,
    document: unknown,
    source: string,
    overwrite: boolean,
  ): Promise<{ kind: ResourceKind; name: string; created: boolean }> {
    const parsed = parseResource(document, source);
    if (!parsed.ok) throw badRequest(parsed.message);
    const name = parsed.resource.metadata.name;
    const existing = await this.deps.resources.get(parsed.kind, name);
    if (existing && !overwrite) throw new ConflictError(`${parsed.kind} ${name} already exists; add --force to overwrite it`);
    const resource =
      parsed.kind === 'user'
        ? this.userToStore(parsed.resource as User, existing?.body as User | undefined)
        : parsed.kind === 'github'
          ? // The client secret is stored sealed, never in the clear.
            await sealConnectorSecret(
              this.deps.secrets,
              parsed.resource as GitHubConnector,
              existing?.body as StoredGitHubConnector | undefined,
            )
          : parsed.resource;
    await this.deps.resources.put(parsed.kind, name, resource, { expectRevision: existing?.revision ?? null });
    // A new user of the name starts without what an earlier one left behind.
    if (parsed.kind === 'user' && !existing) await this.localUsers.forget(name);
    await this.deps.audit.emit(
      // One event name for both, as Teleport's T9000I covers upserts; `updated` tells them apart.
      auditEvent(this.deps, 'resource.create', { user: caller.username, kind: parsed.kind, name, updated: existing !== undefined }),
    );
    return { kind: parsed.kind, name, created: !existing };
  }

  async removeResource(caller: CertifiedIdentity, kind: string, name: string): Promise<void> {
    if (kind === 'user') return this.removeUser(caller, name);
    if (!isResourceKind(kind)) throw badRequest(`unknown kind ${kind}; use role, user, kube_cluster or github`);
    if (!(await this.deps.resources.delete(kind, name))) throw notFound(`${kind} ${name} not found`);
    await this.deps.audit.emit(auditEvent(this.deps, 'resource.delete', { user: caller.username, kind, name }));
  }

  /**
   * New roles or traits apply to new certificates only; the ones already out stop working, and so
   * do those of an earlier user of the same name. The incarnation is the server's: kept across
   * changes (invites and credentials stay valid), new for a new user, never taken from the document.
   */
  private userToStore(user: User, existing: User | undefined): User {
    const incarnation = existing ? existing.spec.created_by?.incarnation : this.newIncarnation();
    const createdBy = { ...user.spec.created_by };
    delete createdBy.incarnation;
    if (incarnation !== undefined) createdBy.incarnation = incarnation;
    const spec = { ...user.spec, revoked_before: revocationTime(this.deps.clock.now(), existing).toISOString() };
    return { ...user, spec: Object.keys(createdBy).length > 0 ? { ...spec, created_by: createdBy } : spec };
  }

  private async revokeCertificatesOf(name: string): Promise<User> {
    for (let attempt = 0; ; attempt++) {
      const stored = await this.deps.resources.get<User>('user', name);
      if (!stored) throw notFound(`user ${name} not found; add it with tctl users add ${name} --roles=...`);
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

  private newIncarnation(): string {
    return Buffer.from(this.deps.random.bytes(16)).toString('hex');
  }

  async listClusters(): Promise<KubeCluster[]> {
    return (await this.deps.resources.list<KubeCluster>('kube_cluster')).map((r) => r.body);
  }
}
