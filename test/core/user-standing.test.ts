// Revocation to the millisecond: a certificate from the millisecond of a revocation is refused,
// and a login right after a revocation still gets a certificate that works. Times come from a
// clock the test sets; nothing waits.
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../lib/core/identity.js';
import type { User } from '../../lib/core/resources.js';
import { certificateIssueTime, checkUserStanding, revocationTime } from '../../lib/core/user-standing.js';

const T = Date.parse('2026-03-01T10:00:00.000Z');

function fixedClock(ms: number) {
  let now = ms;
  return { now: () => new Date(now), set: (next: number) => (now = next) };
}

const user = (revokedBefore?: Date): User => ({
  kind: 'user',
  version: 'v2',
  metadata: { name: 'alice' },
  spec: { roles: ['access'], traits: {}, ...(revokedBefore ? { revoked_before: revokedBefore.toISOString() } : {}) },
});

const identity = (issuedAt: Date): Identity => ({
  username: 'alice',
  roles: ['access'],
  traits: {},
  connector: 'local',
  accessRequests: [],
  issuedAt: issuedAt.toISOString(),
});

/** What the issuer does: the time first, then the user, then the certificate's date from both. */
function issue(clock: { now(): Date }, read: () => User): Identity {
  const takenAt = clock.now();
  return identity(certificateIssueTime(takenAt, read()));
}

describe('user standing', () => {
  it('refuses a certificate issued in the very millisecond of the revocation', () => {
    const clock = fixedClock(T);
    const before = user(revocationTime(new Date(T - 60_000)));
    // The issuer read the user as it was before the change, in the millisecond the change lands.
    const cert = issue(clock, () => before);
    const changed = user(revocationTime(clock.now(), before));
    expect(cert.issuedAt).toBe(changed.spec.revoked_before);
    expect(() => checkUserStanding(cert, changed)).toThrow(/your certificate was revoked/);
  });

  it('gives a login right after a revocation, in the same millisecond, a certificate that works', () => {
    const clock = fixedClock(T);
    const changed = user(revocationTime(clock.now(), user(new Date(T - 60_000))));
    const cert = issue(clock, () => changed);
    expect(Date.parse(cert.issuedAt)).toBe(T + 1);
    expect(() => checkUserStanding(cert, changed)).not.toThrow();
  });

  it('two revocations in one millisecond each cover what was issued before them', () => {
    const clock = fixedClock(T);
    const first = user(revocationTime(clock.now(), user()));
    const between = issue(clock, () => first);
    const second = user(revocationTime(clock.now(), first));
    expect(Date.parse(second.spec.revoked_before!)).toBe(T + 1);
    expect(() => checkUserStanding(between, first)).not.toThrow();
    expect(() => checkUserStanding(between, second)).toThrow(/revoked/);
    expect(() =>
      checkUserStanding(
        issue(clock, () => second),
        second,
      ),
    ).not.toThrow();
  });

  it('accepts certificates after the revocation and refuses earlier ones, removed users and unreadable dates', () => {
    const clock = fixedClock(T + 5000);
    const revoked = user(new Date(T));
    expect(() => checkUserStanding(identity(clock.now()), revoked)).not.toThrow();
    expect(() => checkUserStanding(identity(new Date(T - 1)), revoked)).toThrow(/revoked/);
    expect(() => checkUserStanding({ ...identity(clock.now()), issuedAt: '' }, revoked)).toThrow(/revoked/);
    expect(() => checkUserStanding(identity(clock.now()), undefined)).toThrow(/no longer exists/);
    expect(() =>
      checkUserStanding({ ...identity(new Date(0)), username: 'kubeport-admin', connector: 'builtin' }, undefined),
    ).not.toThrow();
    // Only the admin identity skips the checks: any other name with that connector is checked.
    expect(() => checkUserStanding({ ...identity(new Date(0)), connector: 'builtin' }, undefined)).toThrow(/no longer exists/);
    expect(() => checkUserStanding({ ...identity(new Date(T - 1)), connector: 'builtin' }, revoked)).toThrow(/revoked/);
    clock.set(T + 10_000);
    expect(revocationTime(clock.now(), revoked).getTime()).toBe(T + 10_000);
  });
});
