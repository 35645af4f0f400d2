// The CAs as stored resources (kind cert_authority): created once, read with a short cache,
// rotated in phases (lib/core/ca-rotation.ts). Keys stay behind SigningKeys (KMS, key files);
// a CA whose key is not the key of its certificate is refused, never used.
import { X509Certificate, createHash } from 'node:crypto';
import { type CaType, type CertAuthorities, type IssuingCa, createCaCertificate } from '../core/certificate-authority.js';
import {
  CA_TYPES,
  CERT_AUTHORITY_KIND,
  type CaKey,
  type CertAuthority,
  type RetiringKey,
  type RotationPhase,
  certAuthoritySchema,
  legacyCertAuthoritySchema,
} from '../core/cert-authority-resource.js';
import { caFingerprint } from '../core/ca-fingerprint.js';
import {
  atTime,
  changePhase,
  checkRotateAtOnce,
  checkTransition,
  expiredKeys,
  nextAutoPhase,
  nextRetirement,
  rotateAtOnce,
  signingKey,
  trustedKeys,
  withoutExpiredKeys,
  withoutRetiredKeys,
} from '../core/ca-rotation.js';
import { ConflictError, KubeportError, notFound } from '../core/errors.js';
import { FRESH_FOR_MS, cachedLoader } from '../core/fresh-cache.js';
import type { AuditLog, Clock, Random, ResourceStore, SigningKeys, StoredResource } from '../core/ports.js';
import { auditEvent } from './audit-events.js';

/** Long: a CA certificate is replaced by rotating, never by expiring. */
export const CA_VALIDITY_MS = 10 * 365 * 24 * 3_600_000;

export interface CaStoreDeps {
  resources: ResourceStore;
  keys: SigningKeys;
  clock: Clock;
  random: Random;
  audit?: AuditLog;
}

/** The CA resource names a key that is not the key of the certificate next to it. */
export class CaKeyMismatchError extends KubeportError {
  constructor(
    readonly type: CaType,
    readonly keyId: string,
  ) {
    super(
      'invalid_config',
      `the ${type} CA's key ${keyId} is not the key of its certificate, so Kubeport will not sign or trust with it: ` +
        `the cert_authority resource "${type}" was changed outside Kubeport or the key was replaced; ` +
        `restore the key or the resource from a backup (tctl auth rotate cannot fix a CA it does not trust)`,
    );
  }
}

/**
 * Each CA key's certificate has a name of its own (the start of its key's SHA-256): during a
 * rotation two CAs of a type are trusted, and TLS stacks (OpenSSL) pick a leaf's issuer by name.
 */
async function newCaKey(deps: CaStoreDeps, keyId: string, type: CaType, clusterName: string): Promise<CaKey> {
  const signer = deps.keys.signer(keyId);
  const keyHash = createHash('sha256')
    .update(await signer.publicKeySpki())
    .digest('hex')
    .slice(0, 12);
  const commonName = `Kubeport ${type} CA (${clusterName}) ${keyHash}`;
  const certPem = await createCaCertificate({ signer, clock: deps.clock, random: deps.random }, commonName, CA_VALIDITY_MS);
  return { key_id: keyId, cert_pem: certPem };
}

/**
 * Creates each CA that does not exist yet, with a self-signed certificate of its initial key. An
 * existing CA is never replaced; a record local mode wrote before rotation ({cert_pem}) is
 * upgraded in place, keeping its certificate. Two concurrent calls create each CA once.
 */
export async function ensureCertAuthorities(
  deps: CaStoreDeps,
  initial: Record<CaType, string>,
  clusterName: string,
): Promise<{ created: CaType[] }> {
  const created: CaType[] = [];
  for (const type of CA_TYPES) {
    const stored = await deps.resources.get<unknown>(CERT_AUTHORITY_KIND, type);
    if (stored && certAuthoritySchema.safeParse(stored.body).success) continue;
    const legacy = stored ? legacyCertAuthoritySchema.safeParse(stored.body) : undefined;
    if (stored && !legacy?.success) {
      throw new KubeportError(
        'invalid_config',
        `the cert_authority resource "${type}" is not a CA Kubeport can read; restore it from a backup (Kubeport never replaces a CA)`,
      );
    }
    const active = legacy?.data
      ? { key_id: initial[type], cert_pem: legacy.data.cert_pem }
      : await newCaKey(deps, initial[type], type, clusterName);
    const body: CertAuthority = { type, phase: 'standby', active };
    try {
      await deps.resources.put<CertAuthority>(CERT_AUTHORITY_KIND, type, body, { expectRevision: stored?.revision ?? null });
    } catch (error) {
      // Another process created (or upgraded) it first: theirs stands.
      if (error instanceof ConflictError) continue;
      throw error;
    }
    if (stored) continue;
    created.push(type);
    await deps.audit?.emit(
      auditEvent(deps, 'cert_authority.create', {
        user: 'system',
        type,
        fingerprint: caFingerprint(active.cert_pem),
        key_id: active.key_id,
      }),
    );
  }
  return { created };
}

export interface StoredCertAuthoritiesOptions {
  /** How long a read CA is used before it is read again; a rotation reaches every process within this. */
  cacheMs?: number;
  /** Where failures that must not fail a request go (retiring an expired key). */
  log?: (message: string) => void;
  /**
   * Retire the keys of rotated-out entries whose certificates have all expired, and drop the
   * entries: only for a process whose SigningKeys can retire (the auth function, local mode).
   * Any other process (the admin function) leaves them for one that can, or no key would ever be
   * retired; expired keys are never trusted either way.
   * @default false
   */
  retireExpired?: boolean;
}

interface LoadedCa {
  ca: CertAuthority;
  signing: IssuingCa;
  trusted: string[];
}

/**
 * The CAs as the store holds them now. Each read checks that every key the CA may sign with is
 * the key of its certificate, and computes the phase an automatic rotation has reached. With
 * retireExpired, it also stores that phase and retires and drops keys whose last certificate
 * expired (conditional writes: of processes reading at once, one records each change).
 */
export class StoredCertAuthorities implements CertAuthorities {
  private readonly load: (type: string) => Promise<LoadedCa>;
  /** key id + certificate already checked to match: KMS is asked for a public key once. */
  private readonly matched = new Set<string>();

  constructor(
    private readonly deps: CaStoreDeps,
    private readonly options: StoredCertAuthoritiesOptions = {},
  ) {
    this.load = cachedLoader((type) => this.read(type as CaType), deps.clock, options.cacheMs ?? FRESH_FOR_MS);
  }

  async signing(type: CaType): Promise<IssuingCa> {
    return (await this.load(type)).signing;
  }

  async trusted(type: CaType): Promise<string[]> {
    return (await this.load(type)).trusted;
  }

  /** The CA resource as it stands (after dropping expired keys), checked. */
  async current(type: CaType): Promise<CertAuthority> {
    return (await this.load(type)).ca;
  }

  private async read(type: CaType): Promise<LoadedCa> {
    const stored = await readCa(this.deps.resources, type);
    const ca = this.options.retireExpired
      ? await dropExpiredKeys(this.deps, await storeAutoPhase(this.deps, stored, this.options.log), this.options.log)
      : atTime(stored.body, this.deps.clock.now());
    for (const key of [ca.active, ...(ca.next ? [ca.next] : [])]) await this.checkKey(type, key);
    const now = this.deps.clock.now();
    const signs = signingKey(ca);
    return {
      ca,
      signing: { signer: this.deps.keys.signer(signs.key_id), clock: this.deps.clock, random: this.deps.random, certPem: signs.cert_pem },
      trusted: trustedKeys(ca, now).map((key) => key.cert_pem),
    };
  }

  private async checkKey(type: CaType, key: CaKey): Promise<void> {
    const id = `${key.key_id}\n${key.cert_pem}`;
    if (this.matched.has(id)) return;
    await checkKeyMatches(this.deps.keys, type, key);
    this.matched.add(id);
  }
}

/**
 * The certificates of a CA trusted now, read from the store alone: for a process with no access to
 * the CA keys (the agent on AWS has no KMS rights), which trusts but never signs. It cannot check a
 * key against its certificate as StoredCertAuthorities does; the auth function, which signs, does.
 */
export function storedTrustedCertificates(
  resources: ResourceStore,
  clock: Clock,
  cacheMs = FRESH_FOR_MS,
): (type: CaType) => Promise<string[]> {
  const load = cachedLoader(
    async (type) =>
      trustedKeys(atTime((await readCa(resources, type as CaType)).body, clock.now()), clock.now()).map((key) => key.cert_pem),
    clock,
    cacheMs,
  );
  return (type) => load(type);
}

/** Refuses a key whose public key is not its certificate's. */
export async function checkKeyMatches(keys: SigningKeys, type: CaType, key: CaKey): Promise<void> {
  const spki = Buffer.from(await keys.signer(key.key_id).publicKeySpki());
  let certified: Buffer;
  try {
    certified = new X509Certificate(key.cert_pem).publicKey.export({ type: 'spki', format: 'der' });
  } catch {
    throw new CaKeyMismatchError(type, key.key_id);
  }
  if (!spki.equals(certified)) throw new CaKeyMismatchError(type, key.key_id);
}

async function readCa(resources: ResourceStore, type: CaType): Promise<StoredResource<CertAuthority>> {
  const stored = await resources.get<unknown>(CERT_AUTHORITY_KIND, type);
  if (!stored) {
    throw new KubeportError('invalid_config', `there is no ${type} CA yet; it is created at the first start (local mode) or deploy (AWS)`);
  }
  const parsed = certAuthoritySchema.safeParse(stored.body);
  if (!parsed.success || parsed.data.type !== type) {
    throw new KubeportError(
      'invalid_config',
      `the cert_authority resource "${type}" is not a CA Kubeport can read; restore it from a backup (Kubeport never replaces a CA)`,
    );
  }
  return { ...stored, body: parsed.data };
}

/**
 * Stores the phase an automatic rotation reached by now, with a conditional write (of processes
 * reading at once, one writes and audits it); the others read what it wrote.
 */
async function storeAutoPhase(
  deps: CaStoreDeps,
  stored: StoredResource<CertAuthority>,
  log?: (message: string) => void,
): Promise<StoredResource<CertAuthority>> {
  const ca = atTime(stored.body, deps.clock.now());
  if (ca.phase === stored.body.phase) return stored;
  let written: StoredResource<CertAuthority>;
  try {
    written = await deps.resources.put<CertAuthority>(CERT_AUTHORITY_KIND, stored.name, ca, { expectRevision: stored.revision });
  } catch (error) {
    if (error instanceof ConflictError) return storeAutoPhase(deps, await readCa(deps.resources, ca.type), log);
    // The phase holds whether stored or not (every reader computes it): a later read stores it.
    log?.(`storing the ${ca.type} CA's automatic phase change failed (tried again at the next read): ${String(error)}`);
    return { ...stored, body: ca };
  }
  await deps.audit
    ?.emit(
      auditEvent(deps, 'cert_authority.rotate', {
        user: 'system',
        type: ca.type,
        mode: 'auto',
        phase: ca.phase,
        from_phase: stored.body.phase,
        signing_fingerprint: caFingerprint(signingKey(ca).cert_pem),
      }),
    )
    .catch((e: unknown) => log?.(`auditing the ${ca.type} CA's automatic phase change failed: ${String(e)}`));
  return written;
}

/**
 * Retires the keys of retired entries whose certificates have all expired, then drops those
 * entries with a conditional write. Retiring first (retiring twice is harmless) means a key whose
 * retirement fails stays in the CA, untrusted, and the next read tries again: a key is never
 * forgotten while it exists. Of processes reading at once, only the one whose write lands audits.
 */
async function dropExpiredKeys(
  deps: CaStoreDeps,
  stored: StoredResource<CertAuthority>,
  log?: (message: string) => void,
): Promise<CertAuthority> {
  const now = deps.clock.now();
  const expired = expiredKeys(stored.body, now);
  if (expired.length === 0) return stored.body;
  const { type } = stored.body;
  const gone: RetiringKey[] = [];
  for (const key of expired) {
    try {
      await deps.keys.retire(key.key_id);
      gone.push(key);
    } catch (e) {
      log?.(`retiring the ${type} CA's key ${key.key_id} failed (tried again at the next read): ${String(e)}`);
    }
  }
  if (gone.length === 0) return stored.body;
  const kept = withoutRetiredKeys(stored.body, gone);
  try {
    await deps.resources.put<CertAuthority>(CERT_AUTHORITY_KIND, stored.name, kept, { expectRevision: stored.revision });
  } catch (error) {
    // Another process changed it first (dropped the keys, or rotated): read what it wrote.
    if (error instanceof ConflictError) return dropExpiredKeys(deps, await readCa(deps.resources, type), log);
    // The keys are retired and untrusted; the entries go at a later read (retiring again is harmless).
    log?.(`dropping the ${type} CA's retired keys failed (tried again at the next read): ${String(error)}`);
    return kept;
  }
  for (const key of gone) {
    await deps.audit
      ?.emit(
        auditEvent(deps, 'cert_authority.retire', {
          user: 'system',
          type,
          fingerprint: caFingerprint(key.cert_pem),
          key_id: key.key_id,
        }),
      )
      .catch((e: unknown) => log?.(`auditing the retirement of ${key.key_id} failed: ${String(e)}`));
  }
  return kept;
}

export type RotateRequest = { type: CaType; mode: 'manual'; phase: RotationPhase } | { type: CaType; mode: 'auto'; gracePeriodMs: number };

export interface RotateDeps extends CaStoreDeps {
  clusterName: string;
  audit: AuditLog;
  /** Where a failure to retire a key after the rotation was written goes. */
  log?: (message: string) => void;
}

/** Rotated-out entries a CA holds at most, trusted ones and ones whose key waits to be retired. */
const MAX_RETIRED_ENTRIES = 12;

/**
 * One rotation step (manual), or the start of an automatic rotation. Written with a conditional
 * put and audited as cert_authority.rotate with who asked, before any key is retired: retiring (a
 * cancelled rotation's key, expired ones) is best effort, and a key whose retirement fails stays
 * in the CA, untrusted, for the next read to retry. A key created for a step whose write loses a
 * race is retired again.
 */
export async function rotate(deps: RotateDeps, request: RotateRequest, by: string): Promise<CertAuthority> {
  const stored = await readCa(deps.resources, request.type);
  const now = deps.clock.now();
  const at = now.toISOString();
  const pending = expiredKeys(stored.body, now);
  const current = atTime(withoutExpiredKeys(stored.body, now), now);
  for (const key of [current.active, ...(current.next ? [current.next] : [])]) await checkKeyMatches(deps.keys, request.type, key);
  const entersInit = request.mode === 'auto' || request.phase === 'init';
  // Checked before a key is made, so a refused step leaves nothing behind.
  if (request.mode === 'auto') checkRotateAtOnce(current, request.gracePeriodMs);
  else checkTransition(current, request.phase);
  if (entersInit && (stored.body.retired ?? []).length >= MAX_RETIRED_ENTRIES - 1) {
    throw new KubeportError(
      'unavailable',
      `the ${request.type} CA has ${pending.length} expired keys that could not be retired; see the auth function's log, fix what it says and rotate again`,
    );
  }
  const next = entersInit ? await newCaKey(deps, await deps.keys.create(request.type), request.type, deps.clusterName) : undefined;
  const change = { now, by, ...(next ? { next } : {}) };
  const { ca: changed, retireNow } =
    request.mode === 'auto'
      ? { ca: rotateAtOnce(current, { ...change, gracePeriodMs: request.gracePeriodMs }), retireNow: [] }
      : changePhase(current, request.phase, change);
  // Keys to retire stay in the CA, trusted until now (that is, no more), until they are retired.
  const toRetire = [...pending, ...retireNow.map((key) => ({ ...key, trusted_until: at }))];
  const ca: CertAuthority = toRetire.length > 0 ? { ...changed, retired: [...(changed.retired ?? []), ...toRetire] } : changed;
  let written: StoredResource<CertAuthority>;
  try {
    written = await deps.resources.put<CertAuthority>(CERT_AUTHORITY_KIND, request.type, ca, { expectRevision: stored.revision });
  } catch (error) {
    if (next) await deps.keys.retire(next.key_id).catch(() => undefined);
    if (error instanceof ConflictError) {
      throw new ConflictError(
        `the ${request.type} CA changed while rotating (another rotation?); see tctl status and run the command again`,
      );
    }
    throw error;
  }
  await deps.audit.emit(
    auditEvent(deps, 'cert_authority.rotate', {
      user: by,
      type: request.type,
      mode: request.mode,
      phase: ca.phase,
      from_phase: stored.body.phase,
      signing_fingerprint: caFingerprint(signingKey(ca).cert_pem),
      ...(next ? { new_fingerprint: caFingerprint(next.cert_pem) } : {}),
      ...(request.mode === 'auto' ? { grace_period_seconds: request.gracePeriodMs / 1000 } : {}),
    }),
  );
  if (toRetire.length === 0) return ca;
  try {
    return await dropExpiredKeys(deps, written, deps.log);
  } catch (e) {
    deps.log?.(`retiring the ${request.type} CA's old keys failed (tried again at the next read): ${String(e)}`);
    return ca;
  }
}

/** A CA as `tctl status` and GET /webapi/ca show it: no keys, only certificates' fingerprints. */
export interface CaStatus {
  type: CaType;
  phase: RotationPhase;
  signing: string;
  /** Every trusted certificate's fingerprint, the signing one first. */
  trusted: string[];
  /** When the next rotated-out key stops being trusted and is retired. */
  old_key_retires?: string;
  /** An automatic rotation: the phase it moves to next, and when. */
  next_phase?: { phase: RotationPhase; at: string };
  rotation?: CertAuthority['rotation'];
}

export async function describeCertAuthorities(deps: { resources: ResourceStore; clock: Clock }): Promise<CaStatus[]> {
  const now = deps.clock.now();
  return Promise.all(
    CA_TYPES.map(async (type) => {
      // A server whose CAs are not stored (fixed for its life) has no rotation to show: tctl status
      // then reads the fingerprints from ping.
      if (!(await deps.resources.get(CERT_AUTHORITY_KIND, type))) throw notFound(`this server stores no ${type} CA; it cannot rotate`);
      const ca = atTime((await readCa(deps.resources, type)).body, now);
      const retires = nextRetirement(ca, now);
      const next = nextAutoPhase(ca);
      return {
        type,
        phase: ca.phase,
        signing: caFingerprint(signingKey(ca).cert_pem),
        trusted: trustedKeys(ca, now).map((key) => caFingerprint(key.cert_pem)),
        ...(retires ? { old_key_retires: retires.toISOString() } : {}),
        ...(next ? { next_phase: next } : {}),
        ...(ca.rotation ? { rotation: ca.rotation } : {}),
      };
    }),
  );
}
