import { describe, expect, it } from 'vitest';
import {
  MAX_RETIRING_KEYS,
  RotationOrderError,
  SIGNING_SWITCH_SLACK_MS,
  atTime,
  changePhase,
  checkTransition,
  expiredKeys,
  nextAutoPhase,
  nextRetirement,
  rotateAtOnce,
  signingKey,
  trustedKeys,
  withoutExpiredKeys,
} from '../../lib/core/ca-rotation.js';
import { type CertAuthority, ROTATION_PHASES, type RotationPhase, certAuthoritySchema } from '../../lib/core/cert-authority-resource.js';
import { MAX_CERT_TTL_MS } from '../../lib/core/certificate-authority.js';
import { FRESH_FOR_MS } from '../../lib/core/fresh-cache.js';
import { DEFAULT_CA_REFRESH_MS } from '../../lib/client/tsh-config.js';

const HOUR = 3_600_000;
const start = new Date('2026-03-01T10:00:00Z');
const at = (ms: number) => new Date(start.getTime() + ms);
const oldKey = { key_id: 'old', cert_pem: 'OLD' };
const newKey = { key_id: 'new', cert_pem: 'NEW' };
const standby: CertAuthority = { type: 'user', phase: 'standby', active: oldKey };

/** The CA after running `phases` in order, one hour apart. */
function through(...phases: RotationPhase[]): CertAuthority {
  let ca = standby;
  phases.forEach((phase, i) => {
    ca = changePhase(ca, phase, { now: at(i * HOUR), by: 'alice', next: newKey }).ca;
  });
  return ca;
}

describe('the rotation phase machine', () => {
  it('signs with the old key until update_servers, then with the new one', () => {
    expect(signingKey(standby)).toBe(oldKey);
    expect(signingKey(through('init'))).toEqual(oldKey);
    expect(signingKey(through('init', 'update_clients'))).toEqual(oldKey);
    expect(signingKey(through('init', 'update_clients', 'update_servers'))).toEqual(newKey);
    expect(signingKey(through('init', 'update_clients', 'update_servers', 'standby'))).toEqual(newKey);
  });

  it('trusts the new key from init on, the signing key first', () => {
    expect(trustedKeys(standby, start)).toEqual([oldKey]);
    expect(trustedKeys(through('init'), at(HOUR))).toEqual([oldKey, newKey]);
    expect(trustedKeys(through('init', 'update_clients'), at(HOUR))).toEqual([oldKey, newKey]);
    expect(trustedKeys(through('init', 'update_clients', 'update_servers'), at(3 * HOUR))).toEqual([newKey, oldKey]);
  });

  it('keeps the old key trusted after standby until every certificate it signed has expired', () => {
    const done = through('init', 'update_clients', 'update_servers', 'standby');
    // update_servers began at 2h: the old key's last certificate ends MAX_CERT_TTL_MS (plus the slack of caches) later.
    const until = at(2 * HOUR + MAX_CERT_TTL_MS + SIGNING_SWITCH_SLACK_MS);
    expect(done.retired).toEqual([{ ...oldKey, trusted_until: until.toISOString() }]);
    expect(nextRetirement(done, at(4 * HOUR))).toEqual(until);
    expect(trustedKeys(done, new Date(until.getTime() - 1)).map((k) => k.key_id)).toEqual(['new', 'old']);
    expect(expiredKeys(done, new Date(until.getTime() - 1))).toEqual([]);
    expect(trustedKeys(done, until).map((k) => k.key_id)).toEqual(['new']);
    expect(expiredKeys(done, until).map((k) => k.key_id)).toEqual(['old']);
    expect(withoutExpiredKeys(done, until)).toEqual({ ...done, retired: undefined, active: newKey } satisfies CertAuthority);
    expect('retired' in withoutExpiredKeys(done, until)).toBe(false);
    expect(certAuthoritySchema.parse(done)).toEqual(done);
  });

  it('records who changed the phase and when', () => {
    const ca = through('init', 'update_clients');
    expect(ca.rotation).toEqual({
      started: start.toISOString(),
      mode: 'manual',
      grace_period_ms: 0,
      last_phase_change: at(HOUR).toISOString(),
      by: 'alice',
    });
  });

  it('cancels a rotation before the new key signed, retiring the new key at once', () => {
    for (const phases of [['init'], ['init', 'update_clients']] as RotationPhase[][]) {
      const result = changePhase(through(...phases), 'standby', { now: at(5 * HOUR), by: 'bob' });
      expect(result.ca.phase).toBe('standby');
      expect(result.ca.active).toEqual(oldKey);
      expect(result.ca.next).toBeUndefined();
      expect(result.ca.retired).toBeUndefined();
      expect(result.retireNow).toEqual([newKey]);
    }
  });

  const allowed: [RotationPhase, RotationPhase][] = [
    ['standby', 'init'],
    ['init', 'update_clients'],
    ['init', 'standby'],
    ['update_clients', 'update_servers'],
    ['update_clients', 'standby'],
    ['update_servers', 'standby'],
  ];
  const reached: Record<RotationPhase, CertAuthority> = {
    standby: standby,
    init: through('init'),
    update_clients: through('init', 'update_clients'),
    update_servers: through('init', 'update_clients', 'update_servers'),
  };

  it('allows exactly the next phase, and standby before the new key signs', () => {
    for (const from of ROTATION_PHASES) {
      for (const to of ROTATION_PHASES) {
        const ok = allowed.some(([f, t]) => f === from && t === to);
        const attempt = () => checkTransition(reached[from], to);
        if (ok) expect(attempt, `${from} → ${to}`).not.toThrow();
        else expect(attempt, `${from} → ${to}`).toThrow(RotationOrderError);
      }
    }
  });

  it('says which phase comes first and the command that runs it', () => {
    expect(() => checkTransition(reached.init, 'update_servers')).toThrow(
      'the user CA is in phase init: update_servers needs update_clients first; run tctl auth rotate --type=user --phase=update_clients',
    );
    expect(() => checkTransition(standby, 'update_clients')).toThrow(
      'no rotation is under way; start one with tctl auth rotate --type=user --phase=init',
    );
    expect(() => checkTransition(reached.update_clients, 'init')).toThrow(
      'a rotation is under way; go on with tctl auth rotate --type=user --phase=update_servers',
    );
    expect(() => checkTransition(reached.update_servers, 'update_clients')).toThrow(
      'the new key signs already, so there is no way back; finish with tctl auth rotate --type=user --phase=standby',
    );
    expect(() => checkTransition(reached.init, 'init')).toThrow(
      'it is there already; next, run tctl auth rotate --type=user --phase=update_clients',
    );
    expect(() => checkTransition(standby, 'standby')).toThrow('the user CA is in phase standby: it is there already');
  });

  it('runs an automatic rotation through every phase on its schedule: init, update_clients, update_servers, standby', () => {
    const grace = 30 * HOUR;
    const started = rotateAtOnce(standby, { now: start, by: 'carol', next: newKey, gracePeriodMs: grace });
    expect(started.rotation).toMatchObject({
      mode: 'auto',
      grace_period_ms: grace,
      by: 'carol',
      schedule: {
        update_clients: at(3 * HOUR).toISOString(),
        update_servers: at(6 * HOUR).toISOString(),
        standby: at(9 * HOUR).toISOString(),
      },
    });
    expect(certAuthoritySchema.parse(started)).toEqual(started);
    const phaseAt = (ms: number) => atTime(started, at(ms)).phase;
    expect([0, 3 * HOUR - 1, 3 * HOUR, 6 * HOUR - 1, 6 * HOUR, 9 * HOUR - 1, 9 * HOUR].map(phaseAt)).toEqual([
      'init',
      'init',
      'update_clients',
      'update_clients',
      'update_servers',
      'update_servers',
      'standby',
    ]);
    expect(signingKey(atTime(started, at(6 * HOUR - 1)))).toEqual(oldKey);
    expect(signingKey(atTime(started, at(6 * HOUR)))).toEqual(newKey);
    expect(nextAutoPhase(atTime(started, at(4 * HOUR)))).toEqual({ phase: 'update_servers', at: at(6 * HOUR).toISOString() });
    const done = atTime(started, at(100 * HOUR));
    expect(done).toMatchObject({ phase: 'standby', active: newKey });
    expect(nextAutoPhase(done)).toBeUndefined();
    // The old key signed until update_servers began: trusted for the grace period after that.
    expect(nextRetirement(done, at(9 * HOUR))).toEqual(at(6 * HOUR + grace + SIGNING_SWITCH_SLACK_MS));
    expect(atTime(done, at(200 * HOUR))).toEqual(done);
  });

  it('never signs with a key that a client which fetched the CAs one refresh interval ago does not trust, nor drops a key while a certificate of it lives', () => {
    // tsh fetches the CAs every DEFAULT_CA_REFRESH_MS; servers read them behind a cache.
    const clientLag = DEFAULT_CA_REFRESH_MS + FRESH_FOR_MS + SIGNING_SWITCH_SLACK_MS;
    const started = rotateAtOnce(standby, { now: start, by: 'carol', next: newKey, gracePeriodMs: MAX_CERT_TTL_MS });
    const ca = (ms: number) => (ms < 0 ? standby : atTime(started, at(ms)));
    const trustedAt = (ms: number) => trustedKeys(ca(ms), at(ms)).map((key) => key.key_id);
    const minute = 60_000;
    for (let t = -HOUR; t <= 40 * HOUR; t += minute) {
      const signs = signingKey(ca(t)).key_id;
      expect(trustedAt(t - clientLag), `at ${t / minute} min`).toContain(signs);
      // A certificate signed now, for the longest TTL, chains to a trusted key until it expires.
      for (const later of [t, t + MAX_CERT_TTL_MS / 2, t + MAX_CERT_TTL_MS]) expect(trustedAt(later)).toContain(signs);
    }
  });

  it('lets a manual step take over an automatic rotation: its schedule no longer applies', () => {
    const started = rotateAtOnce(standby, { now: start, by: 'carol', next: newKey, gracePeriodMs: MAX_CERT_TTL_MS });
    const cancelled = changePhase(atTime(started, at(HOUR)), 'standby', { now: at(HOUR), by: 'alice' });
    expect(cancelled.retireNow).toEqual([newKey]);
    expect(cancelled.ca.rotation).toMatchObject({ mode: 'manual', by: 'alice' });
    expect(cancelled.ca.rotation?.schedule).toBeUndefined();
    expect(atTime(cancelled.ca, at(100 * HOUR))).toEqual(cancelled.ca);
  });

  it('refuses a grace period shorter than the longest certificate, saying the least it takes', () => {
    expect(() => rotateAtOnce(standby, { now: start, by: 'carol', next: newKey, gracePeriodMs: MAX_CERT_TTL_MS - 1 })).toThrow(
      /shorter than the longest certificate \(30h\).*use --grace-period=30h or more/,
    );
  });

  it('refuses another rotation while the most rotated-out keys it keeps are still trusted, saying when to try again', () => {
    // Automatic rotations of the least grace period (30h) take 9h each; the old key signs for 6h.
    let ca = standby;
    for (let i = 0; i < MAX_RETIRING_KEYS; i++) {
      const rotation = { now: at(i * 9 * HOUR), by: 'carol', next: { key_id: `k${i}`, cert_pem: `K${i}` }, gracePeriodMs: MAX_CERT_TTL_MS };
      ca = atTime(rotateAtOnce(ca, rotation), at((i + 1) * 9 * HOUR));
    }
    const oldest = at(6 * HOUR + MAX_CERT_TTL_MS + SIGNING_SWITCH_SLACK_MS).toISOString();
    expect(() => checkTransition(ca, 'init')).toThrow(
      `4 rotated-out keys are still trusted, the most Kubeport keeps; rotate again after ${oldest}`,
    );
    expect(() => rotateAtOnce(ca, { now: at(5 * HOUR), by: 'carol', next: newKey, gracePeriodMs: MAX_CERT_TTL_MS })).toThrow(
      /rotate again after/,
    );
    expect(() => checkTransition(withoutExpiredKeys(ca, new Date(oldest)), 'init')).not.toThrow();
    expect(certAuthoritySchema.parse(ca)).toEqual(ca);
  });

  it('refuses to start an automatic rotation while another rotation is under way', () => {
    expect(() => rotateAtOnce(reached.update_clients, { now: start, by: 'carol', next: newKey, gracePeriodMs: MAX_CERT_TTL_MS })).toThrow(
      'a rotation is under way; finish it with tctl auth rotate --type=user --phase=update_servers before starting another',
    );
  });
});
