// Local users: one-time invites, password + TOTP enrollment, and password + TOTP login.
import { createHash } from 'node:crypto';
import { KubeportError, badRequest, notFound, unauthenticated } from '../core/errors.js';
import { hashPassword, passwordProblem, verifyPassword } from '../core/password.js';
import type { User } from '../core/resources.js';
import { matchTotp, newTotpSecret, otpauthUri } from '../core/totp.js';
import { auditEvent } from './audit-events.js';
import type { ServiceDeps } from './deps.js';
import { type IssuedCertificate, issueCertificateFor } from './issue-certificate.js';
import { LoginThrottle } from './login-throttle.js';

export const INVITE_TTL_MS = 3_600_000;
const ENROLLMENT_TTL_MS = 15 * 60_000;

/** Kept apart from the user resource so that `tctl get users` never shows secrets. */
export interface LocalCredentials {
  password_hash: string;
  totp_secret_sealed: string;
  last_totp_step: number;
}

interface Invite {
  user: string;
}

export interface LoginAttempt {
  user: string;
  password: string;
  totpCode: string;
  publicKeySpki: Uint8Array;
  ttlMs?: number;
  source: string;
}

export interface EnrollmentAttempt extends LoginAttempt {
  invite: string;
}

const inviteKey = (token: string) => `invite#${createHash('sha256').update(token).digest('hex')}`;
const enrollmentKey = (token: string) => `enroll#${createHash('sha256').update(token).digest('hex')}`;

export class LocalUsers {
  private readonly throttle: LoginThrottle;
  private unknownUserHashPromise: Promise<string> | undefined;

  constructor(private readonly deps: ServiceDeps) {
    this.throttle = new LoginThrottle(deps.state, deps.clock);
  }

  /** Stores a hashed one-time invite; the token itself is shown once, to the admin. */
  async createInvite(user: string): Promise<{ token: string; expires: string }> {
    const token = Buffer.from(this.deps.random.bytes(24)).toString('hex');
    const expires = new Date(this.deps.clock.now().getTime() + INVITE_TTL_MS);
    await this.deps.state.putIfAbsent(inviteKey(token), { user } satisfies Invite, expires);
    return { token, expires: expires.toISOString() };
  }

  /** Step one of an invite: a fresh TOTP secret to put into an authenticator app. */
  async startEnrollment(user: string, invite: string, source: string): Promise<{ otpauthUri: string; secret: string }> {
    await this.requireInvite(user, invite, source);
    const secret = newTotpSecret(this.deps.random);
    const key = enrollmentKey(invite);
    await this.deps.state.delete(key);
    await this.deps.state.putIfAbsent(
      key,
      { sealed: await this.deps.secrets.seal(secret) },
      new Date(this.deps.clock.now().getTime() + ENROLLMENT_TTL_MS),
    );
    return { otpauthUri: otpauthUri(secret, user, `Kubeport ${this.deps.clusterName}`), secret };
  }

  /** Step two: password and a first TOTP code; uses up the invite and returns a certificate. */
  async completeEnrollment(attempt: EnrollmentAttempt): Promise<IssuedCertificate> {
    const { user, source } = attempt;
    const problem = passwordProblem(attempt.password);
    if (problem) throw badRequest(problem);
    await this.throttle.admit(user, source);
    await this.requireInvite(user, attempt.invite, source);
    const pending = await this.deps.state.get<{ sealed: string }>(enrollmentKey(attempt.invite));
    if (!pending) throw unauthenticated('TOTP enrollment not started or expired; run tsh login with the invite again');
    const secret = await this.deps.secrets.open(pending.sealed);
    const step = matchTotp(secret, attempt.totpCode, this.deps.clock.now());
    if (step === undefined) return this.fail(user, source, 'invalid TOTP code; check the clock of your device and enter the current code');
    const invite = await this.deps.state.take<Invite>(inviteKey(attempt.invite));
    if (!invite || invite.user !== user) return this.fail(user, source, 'invite is invalid, expired or already used; ask an admin for a new one (tctl users add)');
    await this.deps.state.delete(enrollmentKey(attempt.invite));
    const credentials: LocalCredentials = {
      password_hash: await hashPassword(attempt.password, this.deps.random),
      totp_secret_sealed: pending.sealed,
      last_totp_step: step,
    };
    const existing = await this.deps.resources.get<LocalCredentials>('local_credentials', user);
    await this.deps.resources.put('local_credentials', user, credentials, { expectRevision: existing?.revision ?? null });
    return this.succeed(user, source, attempt);
  }

  async login(attempt: LoginAttempt): Promise<IssuedCertificate> {
    const { user, source } = attempt;
    await this.throttle.admit(user, source);
    const stored = await this.deps.resources.get<LocalCredentials>('local_credentials', user);
    // The same answer whether the user exists or not, so names cannot be probed.
    const genericFailure = 'invalid user name, password or TOTP code';
    if (!stored) {
      // Spend the same scrypt time as for a real user, so timing does not tell who exists.
      await verifyPassword(attempt.password, await this.unknownUserHash());
      return this.fail(user, source, genericFailure);
    }
    if (!(await verifyPassword(attempt.password, stored.body.password_hash))) return this.fail(user, source, genericFailure);
    const secret = await this.deps.secrets.open(stored.body.totp_secret_sealed);
    const step = matchTotp(secret, attempt.totpCode, this.deps.clock.now());
    if (step === undefined) return this.fail(user, source, genericFailure);
    if (step <= stored.body.last_totp_step) return this.fail(user, source, 'this TOTP code was already used; wait for the next code');
    try {
      await this.deps.resources.put('local_credentials', user, { ...stored.body, last_totp_step: step }, { expectRevision: stored.revision });
    } catch (error) {
      if (error instanceof KubeportError && error.code === 'conflict') {
        return this.fail(user, source, 'this TOTP code was already used; wait for the next code');
      }
      throw error;
    }
    return this.succeed(user, source, attempt);
  }

  async removeCredentials(user: string): Promise<void> {
    await this.deps.resources.delete('local_credentials', user);
  }

  private unknownUserHash(): Promise<string> {
    this.unknownUserHashPromise ??= hashPassword(Buffer.from(this.deps.random.bytes(16)).toString('hex'), this.deps.random).catch((error: unknown) => {
      this.unknownUserHashPromise = undefined;
      throw error;
    });
    return this.unknownUserHashPromise;
  }

  private async requireInvite(user: string, token: string, source: string): Promise<void> {
    const invite = await this.deps.state.get<Invite>(inviteKey(token));
    if (!invite || invite.user !== user) {
      await this.fail(user, source, 'invite is invalid, expired or already used; ask an admin for a new one (tctl users add)');
    }
  }

  private async succeed(user: string, source: string, attempt: LoginAttempt): Promise<IssuedCertificate> {
    // Taken before the user is read: a change landing in between revokes this certificate too.
    const issuedAt = this.deps.clock.now();
    const stored = await this.deps.resources.get<User>('user', user);
    if (!stored) throw notFound(`user ${user} no longer exists`);
    const issued = await issueCertificateFor(this.deps, stored.body, attempt.publicKeySpki, attempt.ttlMs, 'local', issuedAt);
    await this.throttle.recordSuccess(user, source);
    await this.deps.audit.emit(
      auditEvent(this.deps, 'user.login', { user, success: true, method: 'local', 'addr.remote': source, user_roles: issued.identity.roles }),
    );
    return issued;
  }

  private async fail(user: string, source: string, message: string): Promise<never> {
    await this.throttle.recordFailure(user);
    await this.deps.audit.emit(
      auditEvent(this.deps, 'user.login', { user, success: false, method: 'local', 'addr.remote': source, error: message }),
    );
    throw unauthenticated(message);
  }
}


