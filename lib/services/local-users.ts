// Local users: invite enrollment (password + TOTP) and password + TOTP login.
import { KubeportError, badRequest, notFound, unauthenticated } from '../core/errors.js';
import { hashPassword, passwordProblem, verifyPassword } from '../core/password.js';
import type { User } from '../core/resources.js';
import { matchTotp, newTotpSecret, otpauthUri } from '../core/totp.js';
import { revocationTime } from '../core/user-standing.js';
import { auditEvent } from './audit-events.js';
import type { ServiceDeps } from './deps.js';
import { type IssuedCertificate, issueCertificateFor } from './issue-certificate.js';
import { type Invite, LocalInvites } from './local-invites.js';
import { LoginThrottle, ThrottledError, defaultThrottleLimits, enrollmentThrottleLimits } from './login-throttle.js';
import { signInConnector } from './user-records.js';

/** Kept apart from the user resource so that `tctl get users` never shows secrets. */
export interface LocalCredentials {
  password_hash: string;
  totp_secret_sealed: string;
  last_totp_step: number;
  /** The incarnation of the user these were set for; absent only for data from before incarnations. */
  incarnation?: string;
}

export interface LoginAttempt {
  user: string;
  password: string;
  totpCode: string;
  publicKeySpki: Uint8Array;
  ttlMs?: number;
  source: string;
  /** The client's User-Agent (tsh), when known: for the audit event. */
  userAgent?: string | undefined;
}

export interface EnrollmentAttempt extends LoginAttempt {
  invite: string;
}

// One answer for every failed login, so it tells nothing about which part was wrong.
const LOGIN_FAILURE = 'invalid user name, password or TOTP code (each code works once: if you just used it, wait for the next one)';
const inviteFailure = (user: string) =>
  `invite is invalid, expired or already used; ask an admin for a new one (tctl users reset ${user}, or tctl users add ${user} if there is no such user)`;
const USER_UPDATE_RETRIES = 5;

const incarnationOf = (user: User) => user.spec.created_by?.incarnation;

export class LocalUsers {
  private readonly loginThrottle: LoginThrottle;
  private readonly enrollmentThrottle: LoginThrottle;
  private readonly invites: LocalInvites;
  private decoyPromise: Promise<LocalCredentials> | undefined;

  constructor(private readonly deps: ServiceDeps) {
    this.loginThrottle = new LoginThrottle(deps.state, deps.clock, defaultThrottleLimits, 'login');
    this.enrollmentThrottle = new LoginThrottle(deps.state, deps.clock, enrollmentThrottleLimits, 'enrollment');
    this.invites = new LocalInvites(deps);
  }

  /** An invite for the user as stored now; it opens nothing once the user is removed or added again. */
  createInvite(user: User): Promise<{ token: string; expires: string }> {
    return this.invites.create(user.metadata.name, incarnationOf(user));
  }

  /** Ends the user's login lockout (tctl users unlock): failures counted so far no longer refuse. */
  unlock(user: string): Promise<{ failuresCleared: number }> {
    return this.loginThrottle.unlock(user);
  }

  /** Deletes the invites and credentials of a name: on removal, reset, and before a new user takes it. */
  async forget(user: string): Promise<void> {
    await this.invites.deleteAllOf(user);
    await this.deps.resources.delete('local_credentials', user);
  }

  /** Step one of an invite: the TOTP secret to put into an authenticator app, the same on every retry until the invite is used. */
  async startEnrollment(user: string, invite: string, source: string, userAgent?: string): Promise<{ otpauthUri: string; secret: string }> {
    const origin = { source, userAgent };
    await this.admitted(this.enrollmentThrottle, user, origin);
    await this.requireInvite(user, invite, origin);
    const sealed = await this.invites.startEnrollment(invite, () => this.deps.secrets.seal(newTotpSecret(this.deps.random)));
    const secret = await this.deps.secrets.open(sealed);
    return { otpauthUri: otpauthUri(secret, user, `Kubeport ${this.deps.clusterName}`), secret };
  }

  /** Step two: password and a first TOTP code; uses up the invite and returns a certificate. */
  async completeEnrollment(attempt: EnrollmentAttempt): Promise<IssuedCertificate> {
    const { user } = attempt;
    const origin = { source: attempt.source, userAgent: attempt.userAgent };
    const problem = passwordProblem(attempt.password);
    if (problem) return this.audited(user, origin, problem, badRequest(problem));
    await this.admitted(this.enrollmentThrottle, user, origin);
    // Nothing is stored until the invite is known to belong to the user of this name as it is now.
    const invite = await this.requireInvite(user, attempt.invite, origin);
    const pending = await this.invites.pendingEnrollment(attempt.invite);
    if (!pending) return this.failEnrollment(user, origin, 'TOTP enrollment not started or expired; run tsh login with the invite again');
    const step = matchTotp(await this.deps.secrets.open(pending.sealed), attempt.totpCode, this.deps.clock.now());
    if (step === undefined)
      return this.failEnrollment(user, origin, 'invalid TOTP code; check the clock of your device and enter the current code');
    const taken = await this.invites.take(attempt.invite);
    if (!taken || taken.user !== user || taken.incarnation !== invite.incarnation)
      return this.failEnrollment(user, origin, inviteFailure(user));
    await this.invites.endEnrollment(attempt.invite);
    await this.revokeEarlierCertificates(user, invite, origin);
    const credentials: LocalCredentials = {
      password_hash: await hashPassword(attempt.password, this.deps.random),
      totp_secret_sealed: pending.sealed,
      last_totp_step: step,
      ...(invite.incarnation === undefined ? {} : { incarnation: invite.incarnation }),
    };
    const existing = await this.deps.resources.get<LocalCredentials>('local_credentials', user);
    await this.deps.resources.put('local_credentials', user, credentials, { expectRevision: existing?.revision ?? null });
    return this.succeed(user, origin, attempt, this.enrollmentThrottle);
  }

  async login(attempt: LoginAttempt): Promise<IssuedCertificate> {
    const { user } = attempt;
    const origin = { source: attempt.source, userAgent: attempt.userAgent };
    await this.admitted(this.loginThrottle, user, origin);
    const [stored, account] = await Promise.all([
      this.deps.resources.get<LocalCredentials>('local_credentials', user),
      this.deps.resources.get<User>('user', user),
    ]);
    // Credentials count only for the user they were set for: leftovers of an earlier user of the
    // name open nothing; nor do any a GitHub user holds (their access follows their teams).
    const credentials =
      stored && account && signInConnector(account.body) === undefined && stored.body.incarnation === incarnationOf(account.body)
        ? stored
        : undefined;
    // Every failure does the same work (scrypt, opening a sealed secret, the code check) and gets
    // the same answer, so neither timing nor message tells whether the user exists, the password
    // matched, or a right code was already used.
    const body = credentials?.body ?? (await this.decoy());
    const passwordMatches = await verifyPassword(attempt.password, body.password_hash);
    const step = matchTotp(await this.deps.secrets.open(body.totp_secret_sealed), attempt.totpCode, this.deps.clock.now());
    if (!credentials || !passwordMatches || step === undefined || step <= credentials.body.last_totp_step) {
      return this.failLogin(user, origin);
    }
    try {
      await this.deps.resources.put(
        'local_credentials',
        user,
        { ...credentials.body, last_totp_step: step },
        { expectRevision: credentials.revision },
      );
    } catch (error) {
      // A parallel login used the same code first.
      if (error instanceof KubeportError && error.code === 'conflict') return this.failLogin(user, origin);
      throw error;
    }
    return this.succeed(user, origin, attempt, this.loginThrottle);
  }

  /**
   * Builds the decoy before the first login asks for it, so that first failure for an unknown
   * user takes no longer than any other (the auth handler calls it when it starts).
   */
  prepareDecoy(): void {
    this.decoy().catch(() => undefined);
  }

  /** Credentials no one can log in with, checked in place of missing ones to spend the same time. */
  private decoy(): Promise<LocalCredentials> {
    this.decoyPromise ??= (async () => ({
      password_hash: await hashPassword(Buffer.from(this.deps.random.bytes(16)).toString('hex'), this.deps.random),
      totp_secret_sealed: await this.deps.secrets.seal(newTotpSecret(this.deps.random)),
      last_totp_step: Number.MAX_SAFE_INTEGER,
    }))().catch((error: unknown) => {
      this.decoyPromise = undefined;
      throw error;
    });
    return this.decoyPromise;
  }

  /** The live invite, made for this user as it exists now (not an earlier user of the name). */
  private async requireInvite(user: string, token: string, origin: LoginOrigin): Promise<Invite> {
    const invite = await this.invites.get(token);
    const account = invite?.user === user ? await this.deps.resources.get<User>('user', user) : undefined;
    if (!invite || !account || signInConnector(account.body) !== undefined || incarnationOf(account.body) !== invite.incarnation)
      return this.failEnrollment(user, origin, inviteFailure(user));
    return invite;
  }

  /** Whoever holds a certificate of this user from before now has to log in with the new credentials. */
  private async revokeEarlierCertificates(user: string, invite: Invite, origin: LoginOrigin): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const account = await this.deps.resources.get<User>('user', user);
      if (!account || signInConnector(account.body) !== undefined || incarnationOf(account.body) !== invite.incarnation)
        return this.failEnrollment(user, origin, inviteFailure(user));
      const revokedBefore = revocationTime(this.deps.clock.now(), account.body).toISOString();
      try {
        await this.deps.resources.put<User>(
          'user',
          user,
          { ...account.body, spec: { ...account.body.spec, revoked_before: revokedBefore } },
          { expectRevision: account.revision },
        );
        return;
      } catch (error) {
        if (!(error instanceof KubeportError && error.code === 'conflict') || attempt >= USER_UPDATE_RETRIES) throw error;
      }
    }
  }

  private async succeed(user: string, origin: LoginOrigin, attempt: LoginAttempt, throttle: LoginThrottle): Promise<IssuedCertificate> {
    // Taken before the user is read: a change landing in between revokes this certificate too.
    const issuedAt = this.deps.clock.now();
    let issued: IssuedCertificate;
    try {
      const stored = await this.deps.resources.get<User>('user', user);
      if (!stored) throw notFound(`user ${user} no longer exists`);
      issued = await issueCertificateFor(this.deps, stored.body, attempt.publicKeySpki, attempt.ttlMs, 'local', issuedAt);
    } catch (error) {
      // Right credentials, no certificate (a lock, no roles left): a failed login all the same.
      if (error instanceof KubeportError) return this.audited(user, origin, error.message, error);
      throw error;
    }
    await throttle.recordSuccess(user, origin.source);
    await this.deps.audit.emit(
      auditEvent(this.deps, 'user.login', {
        user,
        success: true,
        ...loginFields(origin),
        user_roles: issued.identity.roles,
      }),
    );
    return issued;
  }

  /** Counts the attempt; a refusal is audited the first time its limit is crossed (later ones only repeat it). */
  private async admitted(throttle: LoginThrottle, user: string, origin: LoginOrigin): Promise<void> {
    try {
      await throttle.admit(user, origin.source);
    } catch (error) {
      if (error instanceof ThrottledError && error.firstRefusal) await this.audited(user, origin, error.message, error);
      throw error;
    }
  }

  private async failLogin(user: string, origin: LoginOrigin): Promise<never> {
    await this.loginThrottle.recordFailure(user);
    return this.audited(user, origin, LOGIN_FAILURE);
  }

  /** Not counted against the user: bad invites must not lock the user out of login. */
  private failEnrollment(user: string, origin: LoginOrigin, message: string): Promise<never> {
    return this.audited(user, origin, message);
  }

  /** Audits a failed login with what the person is told, then throws `error` (401 with that message unless given). */
  private async audited(user: string, origin: LoginOrigin, message: string, error: Error = unauthenticated(message)): Promise<never> {
    await this.deps.audit.emit(
      auditEvent(this.deps, 'user.login', { user, success: false, ...loginFields(origin), error: message, message }),
    );
    throw error;
  }
}

interface LoginOrigin {
  source: string;
  userAgent?: string | undefined;
}

/** Teleport's fields of a local login: method, connector, address and client. */
function loginFields(origin: LoginOrigin): Record<string, string> {
  return {
    method: 'local',
    connector_id: 'local',
    'addr.remote': origin.source,
    ...(origin.userAgent ? { user_agent: origin.userAgent } : {}),
  };
}
