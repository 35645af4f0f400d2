// The part both GitHub logins share: from the user's GitHub access token to a certificate for
// the client's key. The token is one Kubeport got itself, by exchanging its own code (browser)
// or device code (headless) with its own OAuth app, so a token from another app never enters.
import { accessDenied } from '../core/errors.js';
import { type StoredGitHubConnector, mapTeams } from '../core/github-connector.js';
import type { GitHubApi, GitHubEndpoints } from '../core/ports.js';
import { auditEvent } from './audit-events.js';
import { ThrottledError } from './login-throttle.js';
import type { SourceRateLimit } from './source-rate-limit.js';
import type { ServiceDeps } from './deps.js';
import { upsertGitHubUser } from './github-accounts.js';
import { type IssuedCertificate, issueCertificateFor } from './issue-certificate.js';

export const GITHUB_SCOPE = 'read:org';

export interface PendingLogin {
  connector: string;
  /** The client's public key, DER SPKI in base64. */
  public_key: string;
  ttl_ms?: number;
}

/** What a failed login is audited with: the GitHub login once it is known. */
export interface LoginAttemptContext {
  githubLogin?: string;
  source: string;
  /** The client's User-Agent (tsh, a browser), when known. */
  userAgent?: string | undefined;
}

/** Where a login came from, in Teleport's field names. */
function origin(context: LoginAttemptContext): Record<string, string> {
  return { 'addr.remote': context.source, ...(context.userAgent ? { user_agent: context.userAgent } : {}) };
}

export async function signInWithToken(
  deps: ServiceDeps & { github: GitHubApi },
  connector: StoredGitHubConnector,
  endpoints: GitHubEndpoints,
  accessToken: string,
  pending: PendingLogin,
  context: LoginAttemptContext,
): Promise<IssuedCertificate> {
  const issuedAt = deps.clock.now();
  const [account, teams] = await Promise.all([
    deps.github.user(endpoints, accessToken).then((user) => {
      context.githubLogin = user.login;
      return user;
    }),
    deps.github.teams(endpoints, accessToken),
  ]);
  const name = connector.metadata.name;
  if (teams.length === 0) {
    // Teleport says "list of user teams is empty, did you grant access?", which reads as a fault of
    // the person; GitHub cannot tell Kubeport which of the two causes it is.
    throw accessDenied(
      `your GitHub account ${account.login} belongs to no team that Kubeport can see: either you are in no team, or your organization has not approved the Kubeport OAuth app (ask an owner of the organization to approve it); then run tsh login again`,
    );
  }
  const claims = mapTeams(connector, account.login, teams);
  if (claims.roles.length === 0) {
    const yours = claims.traits.github_teams.join(', ');
    throw accessDenied(
      `user ${account.login} does not belong to any teams configured in connector ${name} (your teams: ${yours}); ask an admin to map one of them in its teams_to_roles`,
    );
  }
  const user = await upsertGitHubUser(deps, name, account, claims);
  const publicKey = new Uint8Array(Buffer.from(pending.public_key, 'base64'));
  const issued = await issueCertificateFor(deps, user, publicKey, pending.ttl_ms, name, issuedAt);
  await deps.audit.emit(
    auditEvent(deps, 'user.login.sso', {
      user: user.metadata.name,
      success: true,
      method: 'github',
      connector_id: name,
      github_login: account.login,
      attributes: organizationsToTeams(teams),
      roles: issued.identity.roles,
      ...origin(context),
    }),
  );
  return issued;
}

/** A failed GitHub login: `reason` is the cause, `shown` what the person was told (the same unless given). */
export async function auditLoginFailure(
  deps: ServiceDeps,
  connector: string | undefined,
  reason: string,
  context: LoginAttemptContext,
  shown = reason,
): Promise<void> {
  await deps.audit.emit(
    auditEvent(deps, 'user.login.sso', {
      ...(context.githubLogin === undefined ? {} : { user: context.githubLogin }),
      success: false,
      method: 'github',
      ...(connector === undefined ? {} : { connector_id: connector }),
      error: reason,
      message: shown,
      ...origin(context),
    }),
  );
}

/**
 * Counts a GitHub login call (a start, a headless poll) against its source's limit. The first
 * refusal of a window is audited as a failed login; later ones repeat it and are not, so a
 * flood of calls is not a flood of audit writes.
 */
export async function admitLoginCall(deps: ServiceDeps, limit: SourceRateLimit, context: LoginAttemptContext): Promise<void> {
  try {
    await limit.admit(context.source);
  } catch (error) {
    if (error instanceof ThrottledError && error.firstRefusal) await auditLoginFailure(deps, undefined, error.message, context);
    throw error;
  }
}

function organizationsToTeams(teams: { organization: string; slug: string }[]): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const team of teams) (result[team.organization] ??= []).push(team.slug);
  return result;
}
