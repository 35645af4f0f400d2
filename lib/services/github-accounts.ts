// The Kubeport user a GitHub account signs in as. Keyed by GitHub's immutable user id, so a
// renamed GitHub login keeps its account; a user of the same name that is not this account (a
// local user, or another GitHub account) is never taken over.
import { ConflictError, KubeportError, accessDenied } from '../core/errors.js';
import type { TeamClaims } from '../core/github-connector.js';
import type { GitHubUser } from '../core/ports.js';
import { type User, userSchema } from '../core/resources.js';
import { ADMIN_USER, revocationTime } from '../core/user-standing.js';
import { auditEvent } from './audit-events.js';
import type { ServiceDeps } from './deps.js';

/** Index record: which Kubeport user a GitHub account (connector + id) is. */
export const GITHUB_IDENTITY_KIND = 'github_identity';
export interface GitHubIdentityRecord {
  user: string;
  connector: string;
  github_id: string;
}

const RETRIES = 3;

export async function upsertGitHubUser(deps: ServiceDeps, connectorName: string, account: GitHubUser, claims: TeamClaims): Promise<User> {
  const key = `${connectorName}:${account.id}`;
  // Most logins keep their name: read the user of the current login alongside the index.
  const [index, byLogin] = await Promise.all([
    deps.resources.get<GitHubIdentityRecord>(GITHUB_IDENTITY_KIND, key),
    deps.resources.get<User>('user', account.login),
  ]);
  const name = index?.body.user ?? account.login;
  if (name === ADMIN_USER) {
    throw accessDenied(
      `the GitHub login ${account.login} cannot sign in to Kubeport: ${ADMIN_USER} is the name of the local admin identity and reserved; ask an admin`,
    );
  }
  for (let attempt = 0; ; attempt++) {
    const existing = attempt === 0 && name === account.login ? byLogin : await deps.resources.get<User>('user', name);
    if (existing) refuseTakeover(existing.body, connectorName, account);
    const user = userFor(deps, name, connectorName, account, claims, existing?.body);
    // The usual repeat login changes nothing: no write.
    if (existing && index && JSON.stringify(user) === JSON.stringify(existing.body)) return existing.body;
    try {
      await deps.resources.put('user', name, user, { expectRevision: existing?.revision ?? null });
    } catch (error) {
      if (error instanceof KubeportError && error.code === 'conflict' && attempt < RETRIES) continue;
      throw error;
    }
    // Teleport audits an SSO user's creation, and each change its teams bring, as user.create / user.update.
    await deps.audit.emit(
      auditEvent(deps, existing ? 'user.update' : 'user.create', {
        user: name,
        kind: 'user',
        name,
        roles: user.spec.roles,
        connector: connectorName,
      }),
    );
    if (!index) {
      const record: GitHubIdentityRecord = { user: name, connector: connectorName, github_id: account.id };
      await deps.resources.put(GITHUB_IDENTITY_KIND, key, record, { expectRevision: null }).catch((error: unknown) => {
        // A login running at the same time wrote the same record.
        if (!(error instanceof ConflictError)) throw error;
      });
    }
    return user;
  }
}

function owns(user: User, connectorName: string, account: GitHubUser): boolean {
  return (user.spec.github_identities ?? []).some((i) => i.connector_id === connectorName && i.user_id === account.id);
}

function refuseTakeover(user: User, connectorName: string, account: GitHubUser): void {
  if (owns(user, connectorName, account)) return;
  const name = user.metadata.name;
  if ((user.spec.github_identities ?? []).length > 0) {
    throw accessDenied(
      `Kubeport user ${name} belongs to another GitHub account (the GitHub login ${account.login} was renamed or reused); ask an admin to remove or rename that user (tctl users rm ${name})`,
    );
  }
  throw accessDenied(
    `a user named ${name} already exists and is not a GitHub user, so GitHub login will not sign you in as it; if it should become your GitHub account, ask an admin to remove it (tctl users rm ${name}), then log in again`,
  );
}

function userFor(
  deps: ServiceDeps,
  name: string,
  connectorName: string,
  account: GitHubUser,
  claims: TeamClaims,
  existing: User | undefined,
): User {
  const now = deps.clock.now();
  const traits: Record<string, string[]> = { ...claims.traits };
  const changed =
    !existing ||
    JSON.stringify([...existing.spec.roles].sort()) !== JSON.stringify([...claims.roles].sort()) ||
    JSON.stringify(existing.spec.traits) !== JSON.stringify(traits);
  // New roles or traits apply to new certificates only; the ones issued before stop working.
  const revokedBefore = changed ? revocationTime(now, existing).toISOString() : existing.spec.revoked_before;
  const document = {
    kind: 'user',
    version: 'v2',
    metadata: { name },
    spec: {
      roles: claims.roles,
      traits,
      github_identities: [{ connector_id: connectorName, username: account.login, user_id: account.id }],
      created_by: {
        connector: connectorName,
        time: existing?.spec.created_by?.time ?? now.toISOString(),
        incarnation: existing?.spec.created_by?.incarnation ?? Buffer.from(deps.random.bytes(16)).toString('hex'),
      },
      ...(revokedBefore === undefined ? {} : { revoked_before: revokedBefore }),
    },
  };
  const parsed = userSchema.safeParse(document);
  if (!parsed.success) {
    throw accessDenied(`GitHub login ${account.login} cannot be a Kubeport user name (${parsed.error.issues[0]!.message}); ask an admin`);
  }
  return parsed.data;
}
