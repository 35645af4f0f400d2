// The stored CA (kind `cert_authority`, named `user` or `host`): which keys it has, with their
// self-signed certificates, and where a rotation stands. Kept apart from resources.ts: tctl does
// not create or edit it, only `tctl auth rotate` changes it (lib/services/cert-authorities.ts).
import * as z from 'zod';

export const CERT_AUTHORITY_KIND = 'cert_authority';
export const CA_TYPES = ['user', 'host'] as const;

/** Teleport's rotation phases: standby (no rotation), then init → update_clients → update_servers → standby. */
export const ROTATION_PHASES = ['standby', 'init', 'update_clients', 'update_servers'] as const;
export type RotationPhase = (typeof ROTATION_PHASES)[number];

const isoTime = z.iso.datetime({ offset: true });

/** A CA key (a KMS key id or a key file name) and the self-signed certificate of its public key. */
export const caKeySchema = z.object({ key_id: z.string().min(1).max(2048), cert_pem: z.string().min(1).max(16_384) }).strict();
export type CaKey = z.infer<typeof caKeySchema>;

/** A key that signs no more, still trusted until every certificate it signed has expired. */
export const retiringKeySchema = caKeySchema.extend({ trusted_until: isoTime }).strict();
export type RetiringKey = z.infer<typeof retiringKeySchema>;

export const certAuthoritySchema = z
  .object({
    type: z.enum(CA_TYPES),
    phase: z.enum(ROTATION_PHASES),
    /** The current key: it signs in every phase but update_servers. */
    active: caKeySchema,
    /** The key being rotated to (init, update_clients, update_servers): trusted, and signing in update_servers. */
    next: caKeySchema.optional(),
    /** Keys rotated out, trusted until `trusted_until`; dropped (and their keys retired) the first read after. */
    retired: z.array(retiringKeySchema).max(12).optional(),
    /** The rotation under way, or the last one once back in standby. */
    rotation: z
      .object({
        started: isoTime,
        mode: z.enum(['manual', 'auto']),
        /** How long the rotated-out key stays trusted after the new one signs (auto mode's --grace-period). */
        grace_period_ms: z.number().int().nonnegative(),
        last_phase_change: isoTime,
        /** Who made the last phase change. */
        by: z.string().max(256).optional(),
        /** Auto mode: when each following phase begins; whoever reads the CA then moves it on (ca-rotation.ts). */
        schedule: z.object({ update_clients: isoTime, update_servers: isoTime, standby: isoTime }).strict().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type CertAuthority = z.infer<typeof certAuthoritySchema>;

/** A record local mode wrote before CAs could rotate: just the certificate of `<type>-ca.key`. */
export const legacyCertAuthoritySchema = z.object({ cert_pem: z.string().min(1) }).strict();
