// Who a certificate speaks for. Carried in the user certificate (CN, O, and a JSON extension).
import { AsnConvert } from '@peculiar/asn1-schema';
import { DirectoryString } from '@peculiar/asn1-x509';
import { unauthenticated } from './errors.js';

export type Traits = Record<string, string[]>;

export interface Identity {
  username: string;
  roles: string[];
  traits: Traits;
  /** 'local' for password + TOTP users, a connector name for SSO users. */
  connector: string;
  accessRequests: string[];
  /** ISO time at which the certificate was issued. */
  issuedAt: string;
}

export interface CertifiedIdentity extends Identity {
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
}

/**
 * OID of the identity extension. Not under 2.25 as first planned: a UUID arc needs 128 bits, and
 * Go's ASN.1 parser (kubectl loads the certificate with it) refuses arcs wider than 31 bits.
 * Teleport's own identity OIDs live under 1.3.9999.1 and .2; Kubeport takes .7.
 */
export const IDENTITY_EXTENSION_OID = '1.3.9999.7.1';

export function encodeIdentity(identity: Identity): string {
  return JSON.stringify({
    roles: identity.roles,
    traits: identity.traits,
    access_requests: identity.accessRequests,
    connector: identity.connector,
    issued_at: identity.issuedAt,
  });
}

/** The identity extension's value: the JSON above as one DER UTF8String. */
export function identityExtensionValue(identity: Identity): ArrayBuffer {
  return AsnConvert.serialize(new DirectoryString({ utf8String: encodeIdentity(identity) }));
}

/** Reads the identity extension's value back; the username comes from the certificate's CN. */
export function identityFromExtensionValue(username: string, value: BufferSource): Identity {
  let text: string | undefined;
  try {
    text = AsnConvert.parse(value, DirectoryString).utf8String;
  } catch {
    text = undefined;
  }
  if (text === undefined) throw unauthenticated('certificate identity extension is not a UTF8String');
  return decodeIdentity(username, text);
}

export function decodeIdentity(username: string, json: string): Identity {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw unauthenticated('certificate identity extension is not JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw unauthenticated('certificate identity extension is not a JSON object');
  const value = raw as Record<string, unknown>;
  return {
    username,
    roles: stringList(value.roles, 'roles'),
    traits: traitMap(value.traits),
    accessRequests: stringList(value.access_requests ?? [], 'access_requests'),
    connector: typeof value.connector === 'string' ? value.connector : 'local',
    issuedAt: typeof value.issued_at === 'string' ? value.issued_at : '',
  };
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw unauthenticated(`certificate identity extension field ${field} must be a list of strings`);
  }
  return value;
}

function traitMap(value: unknown): Traits {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object') throw unauthenticated('certificate identity extension field traits must be an object');
  const traits: Traits = {};
  for (const [key, list] of Object.entries(value as Record<string, unknown>)) traits[key] = stringList(list, `traits.${key}`);
  return traits;
}
