// CA rotation as Teleport runs it, as pure functions over the stored CA (cert-authority-resource.ts):
// which key signs and which certificates are trusted in each phase, and which phase may follow
// which. The order, and why:
//   standby        the active key signs and is trusted (with rotated-out keys until they expire).
//   init           a new key exists and is trusted everywhere, but signs nothing yet.
//   update_clients clients (tsh, kubeconfigs) fetch the new certificate next to the old one.
//   update_servers the new key signs; the old one is still trusted.
//   standby        the new key is the active one; the old one stays trusted until every
//                  certificate it signed has expired, then is retired.
// An automatic rotation (`--manual=false`) runs the same phases on a schedule fixed when it starts
// (autoSchedule): init and update_clients each last AUTO_PHASE_FRACTION of the grace period (3h
// for the least, 30h), long enough for every client to fetch the new certificate (tsh every 5
// minutes, the agent every few seconds, each behind a cache of seconds) before the new key signs;
// update_servers as long again; then standby, the old key trusted for the grace period after it
// last signed. No timer runs it: every reader computes the phase at its time (atTime), and a
// process that writes the CA (the auth function, local mode) stores the change on its next read.
// Going to standby from init or update_clients cancels the rotation: the new key never signed
// anything, so it is dropped at once. There is no way back once the new key has signed
// (Teleport's rollback phase is not offered): run another rotation instead.
import { MAX_CERT_TTL_MS, type CaType } from './certificate-authority.js';
import type { CaKey, CertAuthority, RetiringKey, RotationPhase } from './cert-authority-resource.js';
import { KubeportError, badRequest } from './errors.js';

/**
 * How long after the signing key changed a process may still sign with the old one: each caches
 * the CA for a few seconds, and a request that read it just before may sign just after.
 */
export const SIGNING_SWITCH_SLACK_MS = 60_000;

/** The key that signs new certificates in the CA's phase. */
export function signingKey(ca: CertAuthority): CaKey {
  return ca.phase === 'update_servers' && ca.next ? ca.next : ca.active;
}

/** Every key whose certificates are trusted at `now`: the signing one first, retired ones while trusted. */
export function trustedKeys(ca: CertAuthority, now: Date): CaKey[] {
  const signing = signingKey(ca);
  const other = [ca.active, ca.next].filter((key): key is CaKey => key !== undefined && key !== signing);
  const retired = (ca.retired ?? []).filter((key) => !isPast(key, now));
  return [signing, ...other, ...retired];
}

/** Retired keys whose last certificate has expired at `now`: to drop from the CA and retire. */
export function expiredKeys(ca: CertAuthority, now: Date): RetiringKey[] {
  return (ca.retired ?? []).filter((key) => isPast(key, now));
}

/** The CA without the retired keys that expired at `now`. */
export function withoutExpiredKeys(ca: CertAuthority, now: Date): CertAuthority {
  return withoutRetiredKeys(ca, expiredKeys(ca, now));
}

/** The CA without these retired keys. */
export function withoutRetiredKeys(ca: CertAuthority, keys: RetiringKey[]): CertAuthority {
  const ids = new Set(keys.map((key) => key.key_id));
  const kept = (ca.retired ?? []).filter((key) => !ids.has(key.key_id));
  const rest = { ...ca };
  delete rest.retired;
  return kept.length > 0 ? { ...rest, retired: kept } : rest;
}

/** When the oldest rotated-out key stops being trusted, if any still is. */
export function nextRetirement(ca: CertAuthority, now: Date): Date | undefined {
  const times = (ca.retired ?? []).filter((key) => !isPast(key, now)).map((key) => Date.parse(key.trusted_until));
  return times.length > 0 ? new Date(Math.min(...times)) : undefined;
}

/** A duration as a --grace-period value: 30h, 1.5h. */
const asHours = (ms: number) => `${Number((ms / 3_600_000).toFixed(3))}h`;

const isPast = (key: RetiringKey, now: Date) => Date.parse(key.trusted_until) <= now.getTime();

/** Why a manual phase change is refused, and what to run instead. */
export class RotationOrderError extends KubeportError {
  constructor(
    readonly type: CaType,
    readonly from: RotationPhase,
    readonly to: RotationPhase,
    why: string,
  ) {
    super('conflict', `the ${type} CA is in phase ${from}: ${why}`);
  }
}

const rotateCommand = (type: CaType, phase: RotationPhase) => `tctl auth rotate --type=${type} --phase=${phase}`;

/** What follows each phase in a rotation. */
const following: Record<RotationPhase, RotationPhase> = {
  standby: 'init',
  init: 'update_clients',
  update_clients: 'update_servers',
  update_servers: 'standby',
};

/** Rotated-out keys a CA holds at most at once; a further rotation waits for the oldest to retire. */
export const MAX_RETIRING_KEYS = 4;

function checkRoomForAnotherKey(ca: CertAuthority, to: RotationPhase): void {
  const retiring = ca.retired ?? [];
  if (retiring.length < MAX_RETIRING_KEYS) return;
  const first = retiring.map((key) => key.trusted_until).sort()[0];
  throw new RotationOrderError(
    ca.type,
    ca.phase,
    to,
    `${retiring.length} rotated-out keys are still trusted, the most Kubeport keeps; rotate again after ${first}, when the oldest retires`,
  );
}

/** Refuses a manual change from the CA's phase to `to` unless it is the next one, or a cancel before the new key signed. */
export function checkTransition(ca: CertAuthority, to: RotationPhase): void {
  const from = ca.phase;
  const { type } = ca;
  if (from === 'standby' && to === 'init') checkRoomForAnotherKey(ca, to);
  if (following[from] === to) return;
  if (to === 'standby' && (from === 'init' || from === 'update_clients')) return;
  const refuse = (why: string) => new RotationOrderError(type, from, to, why);
  if (from === to) throw refuse(`it is there already${from === 'standby' ? '' : `; next, run ${rotateCommand(type, following[from])}`}`);
  if (from === 'standby') throw refuse(`no rotation is under way; start one with ${rotateCommand(type, 'init')}`);
  if (to === 'init') throw refuse(`a rotation is under way; go on with ${rotateCommand(type, following[from])}`);
  if (from === 'update_servers') {
    throw refuse(`the new key signs already, so there is no way back; finish with ${rotateCommand(type, 'standby')}`);
  }
  const missing = to === 'update_servers' && from === 'init' ? 'update_clients' : following[from];
  throw refuse(`${to} needs ${missing} first; run ${rotateCommand(type, missing)}`);
}

export interface PhaseChange {
  now: Date;
  /** Who asks (a user name), recorded in the CA. */
  by: string;
  /** The new key and its certificate: needed (only) to enter init. */
  next?: CaKey;
}

export interface PhaseChangeResult {
  ca: CertAuthority;
  /** Keys to retire now: a cancelled rotation's new key, which never signed anything. */
  retireNow: CaKey[];
}

/** The CA after a manual phase change (checked with checkTransition first). */
export function changePhase(ca: CertAuthority, to: RotationPhase, change: PhaseChange): PhaseChangeResult {
  checkTransition(ca, to);
  const at = change.now.toISOString();
  // A manual step takes over an automatic rotation: its schedule no longer applies.
  const rotation: NonNullable<CertAuthority['rotation']> = {
    ...(ca.rotation ?? { started: at, grace_period_ms: 0 }),
    mode: 'manual',
    last_phase_change: at,
    by: change.by,
  };
  delete rotation.schedule;
  if (to === 'init') {
    if (!change.next) throw new Error('entering init needs the new key');
    return {
      ca: {
        ...ca,
        phase: 'init',
        next: change.next,
        rotation: { started: at, mode: 'manual', grace_period_ms: 0, last_phase_change: at, by: change.by },
      },
      retireNow: [],
    };
  }
  if (to === 'standby' && ca.phase !== 'update_servers') {
    const { next, ...rest } = ca;
    return { ca: { ...rest, phase: 'standby', rotation }, retireNow: next ? [next] : [] };
  }
  if (to === 'standby') {
    // The old key signed until update_servers began (plus what caches allow): its certificates
    // live at most MAX_CERT_TTL_MS from then.
    const switchedAt = Date.parse(ca.rotation?.last_phase_change ?? at);
    return { ca: retireActive(ca, new Date(switchedAt + MAX_CERT_TTL_MS + SIGNING_SWITCH_SLACK_MS), rotation), retireNow: [] };
  }
  return { ca: { ...ca, phase: to, rotation }, retireNow: [] };
}

/** How much of the grace period each of init, update_clients and update_servers lasts in an automatic rotation. */
export const AUTO_PHASE_FRACTION = 0.1;

/** When each phase after init begins in an automatic rotation started at `start`. */
export function autoSchedule(start: Date, gracePeriodMs: number): Record<'update_clients' | 'update_servers' | 'standby', string> {
  const phaseMs = Math.round(gracePeriodMs * AUTO_PHASE_FRACTION);
  const after = (phases: number) => new Date(start.getTime() + phases * phaseMs).toISOString();
  return { update_clients: after(1), update_servers: after(2), standby: after(3) };
}

/**
 * `--manual=false`: starts an automatic rotation from standby. The CA enters init with the new
 * key; atTime moves it through the following phases on the schedule.
 */
export function rotateAtOnce(ca: CertAuthority, change: PhaseChange & { gracePeriodMs: number }): CertAuthority {
  checkRotateAtOnce(ca, change.gracePeriodMs);
  if (!change.next) throw new Error('rotating needs the new key');
  const at = change.now.toISOString();
  const schedule = autoSchedule(change.now, change.gracePeriodMs);
  const rotation = {
    started: at,
    mode: 'auto' as const,
    grace_period_ms: change.gracePeriodMs,
    last_phase_change: at,
    by: change.by,
    schedule,
  };
  return { ...ca, phase: 'init', next: change.next, rotation };
}

/** The phase an automatic rotation moves to next and when, if one is under way. */
export function nextAutoPhase(ca: CertAuthority): { phase: RotationPhase; at: string } | undefined {
  const schedule = ca.rotation?.mode === 'auto' ? ca.rotation.schedule : undefined;
  if (!schedule || ca.phase === 'standby') return undefined;
  const phase = following[ca.phase] as keyof typeof schedule;
  return { phase, at: schedule[phase] };
}

/** The CA at `now`: an automatic rotation moved through every phase whose time has come. */
export function atTime(ca: CertAuthority, now: Date): CertAuthority {
  let current = ca;
  for (let step = nextAutoPhase(current); step && Date.parse(step.at) <= now.getTime(); step = nextAutoPhase(current)) {
    const rotation = { ...current.rotation!, last_phase_change: step.at };
    if (step.phase !== 'standby') {
      current = { ...current, phase: step.phase, rotation };
      continue;
    }
    // The old key signed until update_servers began (plus what caches allow).
    const switchedAt = Date.parse(rotation.schedule!.update_servers);
    current = retireActive(current, new Date(switchedAt + rotation.grace_period_ms + SIGNING_SWITCH_SLACK_MS), rotation);
  }
  return current;
}

/** Refuses a rotation at once outside standby, or with a grace period shorter than a certificate may live. */
export function checkRotateAtOnce(ca: CertAuthority, gracePeriodMs: number): void {
  if (gracePeriodMs < MAX_CERT_TTL_MS) {
    throw badRequest(
      `a grace period of ${asHours(gracePeriodMs)} is shorter than the longest certificate (${asHours(MAX_CERT_TTL_MS)}): ` +
        `certificates the old key signed would stop working before they expire; use --grace-period=${asHours(MAX_CERT_TTL_MS)} or more`,
    );
  }
  if (ca.phase !== 'standby') {
    throw new RotationOrderError(
      ca.type,
      ca.phase,
      'update_servers',
      `a rotation is under way; finish it with ${rotateCommand(ca.type, following[ca.phase])} before starting another`,
    );
  }
  checkRoomForAnotherKey(ca, 'update_servers');
}

/** The next key becomes the active one; the active one is trusted until `trustedUntil`. */
function retireActive(ca: CertAuthority, trustedUntil: Date, rotation: NonNullable<CertAuthority['rotation']>): CertAuthority {
  const { next, ...rest } = ca;
  if (!next) throw new Error('no next key to rotate to');
  const old: RetiringKey = { ...ca.active, trusted_until: trustedUntil.toISOString() };
  return { ...rest, phase: 'standby', active: next, retired: [...(ca.retired ?? []), old], rotation };
}
