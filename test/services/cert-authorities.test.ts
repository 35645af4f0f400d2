// The stored CAs over the real resource store (dynalite) and local key files: created once,
// upgraded in place, refused when a key is not its certificate's, rotated in order, retired once.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeDynamoClient } from '../../lib/adapters/aws/clients.js';
import { DynamoAuditLog } from '../../lib/adapters/aws/dynamo-audit-log.js';
import { DynamoResourceStore } from '../../lib/adapters/aws/dynamo-resource-store.js';
import { createTables, tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { startEmbeddedDynamoDb, type EmbeddedStore } from '../../lib/adapters/local/embedded-dynamodb.js';
import { FileSigner } from '../../lib/adapters/local/file-signer.js';
import { FileSigningKeys } from '../../lib/adapters/local/file-signing-keys.js';
import { newLeafKey } from '../../lib/adapters/local/ephemeral-ca.js';
import { systemRandom } from '../../lib/adapters/system.js';
import { SIGNING_SWITCH_SLACK_MS } from '../../lib/core/ca-rotation.js';
import type { CertAuthority } from '../../lib/core/cert-authority-resource.js';
import { MAX_CERT_TTL_MS, createCaCertificate, issueUserCertificate } from '../../lib/core/certificate-authority.js';
import { chainsToTrustedCa, parseCertificate } from '../../lib/core/leaf-certificate.js';
import type { SigningKeys } from '../../lib/core/ports.js';
import {
  CaKeyMismatchError,
  type RotateDeps,
  StoredCertAuthorities,
  ensureCertAuthorities,
  rotate,
  storedTrustedCertificates,
} from '../../lib/services/cert-authorities.js';
import { searchEvents } from '../support/audit-events.js';

const HOUR = 3_600_000;
// Audit searches go day by day: from the test's first day, not from 1970.
const testStart = new Date('2026-03-01T00:00:00Z');
let dynamo: EmbeddedStore;
let client: DynamoDBClient;
let tableNo = 0;
let dataDir: string;
let now: Date;
const clock = { now: () => now };
let deps: RotateDeps & { keys: FileSigningKeys };

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
  client = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
});

afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
});

beforeEach(async () => {
  now = new Date('2026-03-01T10:00:00Z');
  dataDir = mkdtempSync(join(tmpdir(), 'cas-'));
  const tables = tableNamesWithPrefix(`cas${tableNo++}-`);
  await createTables(client, tables);
  deps = {
    resources: new DynamoResourceStore(client, tables.resources),
    audit: new DynamoAuditLog(client, tables.audit, clock),
    keys: new FileSigningKeys(dataDir, systemRandom),
    clock,
    random: systemRandom,
    clusterName: 'test',
  };
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const initial = () => ({ user: deps.keys.initial('user'), host: deps.keys.initial('host') });
const storedCa = async (type: 'user' | 'host') => (await deps.resources.get<CertAuthority>('cert_authority', type))!.body;
const advance = (ms: number) => (now = new Date(now.getTime() + ms));

describe('ensureCertAuthorities', () => {
  it('creates each CA once with a self-signed certificate of its key, and never replaces it', async () => {
    expect(await ensureCertAuthorities(deps, initial(), 'test')).toEqual({ created: ['user', 'host'] });
    const user = await storedCa('user');
    expect(user).toMatchObject({ type: 'user', phase: 'standby', active: { key_id: 'user-ca.key' } });
    const cert = new X509Certificate(user.active.cert_pem);
    expect(cert.subject).toMatch(/CN=Kubeport user CA \(test\) [0-9a-f]{12}\n/);
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      Buffer.from(await deps.keys.signer('user-ca.key').publicKeySpki()),
    );
    expect(await ensureCertAuthorities(deps, initial(), 'test')).toEqual({ created: [] });
    expect(await storedCa('user')).toEqual(user);
    const events = await searchEvents(deps.audit, { from: testStart, to: advance(1000), event: 'cert_authority.create' });
    expect(events.map((e) => e.type).sort()).toEqual(['host', 'user']);
  });

  it('creates each CA once when two processes start at the same time', async () => {
    const [a, b] = await Promise.all([ensureCertAuthorities(deps, initial(), 'test'), ensureCertAuthorities(deps, initial(), 'test')]);
    expect([...a.created, ...b.created].sort()).toEqual(['host', 'user']);
    const cas = new StoredCertAuthorities(deps);
    expect(await cas.trusted('user')).toHaveLength(1);
  });

  it('upgrades a record local mode wrote before rotation in place, keeping its certificate', async () => {
    const { signer } = FileSigner.loadOrCreate(join(dataDir, 'user-ca.key'));
    const legacyPem = await createCaCertificate({ signer, clock, random: systemRandom }, 'Kubeport user CA (old)', 10 * 365 * 24 * HOUR);
    await deps.resources.put('cert_authority', 'user', { cert_pem: legacyPem });
    expect(await ensureCertAuthorities(deps, initial(), 'test')).toEqual({ created: ['host'] });
    expect(await storedCa('user')).toEqual({ type: 'user', phase: 'standby', active: { key_id: 'user-ca.key', cert_pem: legacyPem } });
    const cas = new StoredCertAuthorities(deps);
    expect((await cas.signing('user')).certPem).toBe(legacyPem);
  });
});

describe('StoredCertAuthorities', () => {
  it('refuses to sign or trust with a CA whose certificate is not of its key (a forged CA resource)', async () => {
    await ensureCertAuthorities(deps, initial(), 'test');
    const host = await storedCa('host');
    const user = await deps.resources.get<CertAuthority>('cert_authority', 'user');
    // Someone with write access to the table points the user CA's key at the host CA's certificate.
    await deps.resources.put('cert_authority', 'user', {
      ...user!.body,
      active: { key_id: 'user-ca.key', cert_pem: host.active.cert_pem },
    });
    const cas = new StoredCertAuthorities(deps);
    await expect(cas.signing('user')).rejects.toThrow(CaKeyMismatchError);
    await expect(cas.signing('user')).rejects.toThrow(
      /the user CA's key user-ca.key is not the key of its certificate.*restore the key or the resource/,
    );
    await expect(cas.trusted('user')).rejects.toThrow(CaKeyMismatchError);
    await expect(rotate(deps, { type: 'user', mode: 'manual', phase: 'init' }, 'alice')).rejects.toThrow(CaKeyMismatchError);
  });

  it('refuses a key id that names a file outside the data directory', async () => {
    await ensureCertAuthorities(deps, initial(), 'test');
    const user = await storedCa('user');
    await deps.resources.put('cert_authority', 'user', { ...user, active: { ...user.active, key_id: '../../etc/user-ca.key' } });
    await expect(new StoredCertAuthorities(deps).signing('user')).rejects.toThrow(/is not a local CA key name/);
  });

  it('follows a rotation within its cache time, and a certificate issued before chains all along', async () => {
    await ensureCertAuthorities(deps, initial(), 'test');
    const cas = new StoredCertAuthorities(deps, { cacheMs: 2000 });
    const leaf = newLeafKey();
    const identity = {
      username: 'alice',
      roles: ['access'],
      traits: {},
      connector: 'local',
      accessRequests: [],
      issuedAt: now.toISOString(),
    };
    const before = parseCertificate(await issueUserCertificate(await cas.signing('user'), leaf.spki, identity, MAX_CERT_TTL_MS));
    const oldPem = (await cas.trusted('user'))[0]!;

    await rotate(deps, { type: 'user', mode: 'manual', phase: 'init' }, 'alice');
    expect(await cas.trusted('user')).toEqual([oldPem]); // cached
    advance(2000);
    const [signingPem, newPem] = await cas.trusted('user');
    expect(signingPem).toBe(oldPem);
    expect(newPem).toBeDefined();

    await rotate(deps, { type: 'user', mode: 'manual', phase: 'update_clients' }, 'alice');
    advance(1000); // the audit log orders events by time
    await rotate(deps, { type: 'user', mode: 'manual', phase: 'update_servers' }, 'alice');
    advance(2000);
    expect((await cas.signing('user')).certPem).toBe(newPem);
    expect(await cas.trusted('user')).toEqual([newPem, oldPem]);
    const after = parseCertificate(await issueUserCertificate(await cas.signing('user'), leaf.spki, identity, HOUR));
    expect(await chainsToTrustedCa(after, [newPem!], now)).toBe(true);
    expect(await chainsToTrustedCa(after, [oldPem], now)).toBe(false);

    await rotate(deps, { type: 'user', mode: 'manual', phase: 'standby' }, 'alice');
    advance(MAX_CERT_TTL_MS - 4 * HOUR);
    expect(await cas.trusted('user')).toEqual([newPem, oldPem]);
    expect(await chainsToTrustedCa(before, await cas.trusted('user'), new Date(before.notAfter.getTime() - 1000))).toBe(true);

    const events = await searchEvents(deps.audit, { from: testStart, to: now, event: 'cert_authority.rotate' });
    // Events of the same millisecond come back in uid order, so the phases are compared as a set.
    expect(events.map((e) => [e.phase, e.user, e.code]).sort()).toEqual([
      ['init', 'alice', 'KP1101I'],
      ['standby', 'alice', 'KP1101I'],
      ['update_clients', 'alice', 'KP1101I'],
      ['update_servers', 'alice', 'KP1101I'],
    ]);
  });

  it('drops the old key once its last certificate expired, and only one of two processes audits it', async () => {
    await ensureCertAuthorities(deps, initial(), 'test');
    for (const phase of ['init', 'update_clients', 'update_servers', 'standby'] as const) {
      await rotate(deps, { type: 'user', mode: 'manual', phase }, 'alice');
    }
    const retired: string[] = [];
    const counting: SigningKeys = {
      create: (type) => deps.keys.create(type),
      signer: (id) => deps.keys.signer(id),
      retire: async (id) => {
        retired.push(id);
        await deps.keys.retire(id);
      },
    };
    const first = new StoredCertAuthorities({ ...deps, keys: counting }, { retireExpired: true });
    const second = new StoredCertAuthorities({ ...deps, keys: counting }, { retireExpired: true });
    advance(MAX_CERT_TTL_MS + SIGNING_SWITCH_SLACK_MS);
    const [a, b] = await Promise.all([first.trusted('user'), second.trusted('user')]);
    expect(a).toHaveLength(1);
    expect(b).toEqual(a);
    // Retiring twice is harmless; the conditional write decides who records it.
    expect(new Set(retired)).toEqual(new Set(['user-ca.key']));
    expect(existsSync(join(dataDir, 'user-ca.key'))).toBe(false);
    expect((await storedCa('user')).retired).toBeUndefined();
    const events = await searchEvents(deps.audit, { from: testStart, to: now, event: 'cert_authority.retire' });
    expect(events).toHaveLength(1);
  });

  it('leaves an expired key to a process that can retire it: one that cannot neither trusts nor forgets it', async () => {
    await ensureCertAuthorities(deps, initial(), 'test');
    for (const phase of ['init', 'update_clients', 'update_servers', 'standby'] as const) {
      await rotate(deps, { type: 'user', mode: 'manual', phase }, 'alice');
    }
    const cannotRetire: SigningKeys = {
      create: () => Promise.reject(new Error('the admin function creates no key')),
      signer: (id) => deps.keys.signer(id),
      retire: () => Promise.reject(new Error('the admin function retires no key')),
    };
    const admin = new StoredCertAuthorities({ ...deps, keys: cannotRetire });
    advance(MAX_CERT_TTL_MS + SIGNING_SWITCH_SLACK_MS);
    expect(await admin.trusted('user')).toHaveLength(1);
    expect((await storedCa('user')).retired?.map((key) => key.key_id)).toEqual(['user-ca.key']);
    expect(existsSync(join(dataDir, 'user-ca.key'))).toBe(true);

    expect(await new StoredCertAuthorities(deps, { retireExpired: true }).trusted('user')).toHaveLength(1);
    expect(existsSync(join(dataDir, 'user-ca.key'))).toBe(false);
    expect((await storedCa('user')).retired).toBeUndefined();
  });

  it('keeps an expired key whose retirement failed, untrusted, and retires it at a later read', async () => {
    await ensureCertAuthorities(deps, initial(), 'test');
    for (const phase of ['init', 'update_clients', 'update_servers', 'standby'] as const) {
      await rotate(deps, { type: 'user', mode: 'manual', phase }, 'alice');
    }
    let kmsDown = true;
    const flaky: SigningKeys = {
      create: (type) => deps.keys.create(type),
      signer: (id) => deps.keys.signer(id),
      retire: (id) => (kmsDown ? Promise.reject(new Error('KMS is unavailable')) : deps.keys.retire(id)),
    };
    const logged: string[] = [];
    const cas = new StoredCertAuthorities({ ...deps, keys: flaky }, { retireExpired: true, cacheMs: 1000, log: (m) => logged.push(m) });
    advance(MAX_CERT_TTL_MS + SIGNING_SWITCH_SLACK_MS);
    expect(await cas.trusted('user')).toHaveLength(1);
    expect(logged.join('\n')).toMatch(/retiring the user CA's key user-ca.key failed .*KMS is unavailable/);
    expect((await storedCa('user')).retired?.map((key) => key.key_id)).toEqual(['user-ca.key']);
    kmsDown = false;
    advance(2000);
    expect(await cas.trusted('user')).toHaveLength(1);
    expect(existsSync(join(dataDir, 'user-ca.key'))).toBe(false);
    expect((await storedCa('user')).retired).toBeUndefined();
  });
});

describe('an automatic rotation when the store refuses writes', () => {
  it('still signs and trusts by the schedule, and stores the phase once the store accepts writes again', async () => {
    await ensureCertAuthorities(deps, initial(), 'test');
    const ca = await rotate(deps, { type: 'user', mode: 'auto', gracePeriodMs: MAX_CERT_TTL_MS }, 'alice');
    let storeDown = true;
    const resources = Object.create(deps.resources) as typeof deps.resources;
    resources.put = (kind, name, body, options) =>
      storeDown ? Promise.reject(new Error('DynamoDB is unavailable')) : deps.resources.put(kind, name, body, options);
    const logged: string[] = [];
    const cas = new StoredCertAuthorities({ ...deps, resources }, { retireExpired: true, cacheMs: 1000, log: (m) => logged.push(m) });
    advance(7 * HOUR); // update_servers
    expect((await cas.signing('user')).certPem).toBe(ca.next!.cert_pem);
    expect(logged.join('\n')).toMatch(/storing the user CA's automatic phase change failed .*DynamoDB is unavailable/);
    expect((await storedCa('user')).phase).toBe('init');
    storeDown = false;
    advance(2000);
    expect((await cas.signing('user')).certPem).toBe(ca.next!.cert_pem);
    expect((await storedCa('user')).phase).toBe('update_servers');
  });
});

describe('rotate', () => {
  it('refuses a phase out of order without making a key', async () => {
    await ensureCertAuthorities(deps, initial(), 'test');
    await rotate(deps, { type: 'host', mode: 'manual', phase: 'init' }, 'alice');
    const files = readdirSync(dataDir).sort();
    await expect(rotate(deps, { type: 'host', mode: 'manual', phase: 'update_servers' }, 'alice')).rejects.toThrow(
      'update_servers needs update_clients first; run tctl auth rotate --type=host --phase=update_clients',
    );
    await expect(rotate(deps, { type: 'host', mode: 'manual', phase: 'init' }, 'alice')).rejects.toThrow(/it is there already/);
    expect(readdirSync(dataDir).sort()).toEqual(files);
  });

  it('cancels a rotation before update_servers and removes the key it made', async () => {
    await ensureCertAuthorities(deps, initial(), 'test');
    const ca = await rotate(deps, { type: 'host', mode: 'manual', phase: 'init' }, 'alice');
    const newKeyFile = join(dataDir, ca.next!.key_id);
    expect(existsSync(newKeyFile)).toBe(true);
    await rotate(deps, { type: 'host', mode: 'manual', phase: 'standby' }, 'alice');
    expect(existsSync(newKeyFile)).toBe(false);
    expect((await storedCa('host')).active.key_id).toBe('host-ca.key');
  });

  it('stores and audits a cancel even when retiring the cancelled key fails, and a later read retires it', async () => {
    await ensureCertAuthorities(deps, initial(), 'test');
    const started = await rotate(deps, { type: 'host', mode: 'manual', phase: 'init' }, 'alice');
    const newKeyFile = join(dataDir, started.next!.key_id);
    const failing: SigningKeys = {
      create: (type) => deps.keys.create(type),
      signer: (id) => deps.keys.signer(id),
      retire: () => Promise.reject(new Error('KMS is unavailable')),
    };
    const logged: string[] = [];
    const ca = await rotate(
      { ...deps, keys: failing, log: (m) => logged.push(m) },
      { type: 'host', mode: 'manual', phase: 'standby' },
      'bob',
    );
    expect(ca.phase).toBe('standby');
    expect(logged.join('\n')).toMatch(/KMS is unavailable/);
    const events = await searchEvents(deps.audit, { from: testStart, to: advance(1000), event: 'cert_authority.rotate' });
    expect(events.map((e) => [e.phase, e.user]).sort()).toEqual([
      ['init', 'alice'],
      ['standby', 'bob'],
    ]);
    const cas = new StoredCertAuthorities(deps, { retireExpired: true });
    expect(await cas.trusted('host')).toHaveLength(1);
    expect(existsSync(newKeyFile)).toBe(false);
    expect((await storedCa('host')).retired).toBeUndefined();
  });

  it('rotates automatically on a grace period schedule, stored by the process that reads, and refuses one shorter than the longest certificate', async () => {
    await ensureCertAuthorities(deps, initial(), 'test');
    await expect(rotate(deps, { type: 'user', mode: 'auto', gracePeriodMs: 2 * HOUR }, 'alice')).rejects.toThrow(
      /grace period of 2h is shorter than the longest certificate \(30h\)/,
    );
    const ca = await rotate(deps, { type: 'user', mode: 'auto', gracePeriodMs: 40 * HOUR }, 'alice');
    expect(ca.phase).toBe('init');
    const newPem = ca.next!.cert_pem;
    const oldPem = ca.active.cert_pem;
    // The admin function (no retiring) follows the schedule without writing; the auth function stores it.
    const admin = new StoredCertAuthorities(deps, { cacheMs: 1000 });
    const auth = new StoredCertAuthorities(deps, { cacheMs: 1000, retireExpired: true });
    expect((await auth.signing('user')).certPem).toBe(oldPem);
    expect(await auth.trusted('user')).toEqual([oldPem, newPem]);
    advance(8 * HOUR); // update_servers: 8h to 12h
    expect((await admin.signing('user')).certPem).toBe(newPem);
    expect((await storedCa('user')).phase).toBe('init');
    expect((await auth.signing('user')).certPem).toBe(newPem);
    expect((await storedCa('user')).phase).toBe('update_servers');
    advance(4 * HOUR);
    expect(await auth.trusted('user')).toEqual([newPem, oldPem]);
    expect(await storedCa('user')).toMatchObject({ phase: 'standby', active: { cert_pem: newPem } });
    const events = await searchEvents(deps.audit, { from: testStart, to: advance(1000), event: 'cert_authority.rotate' });
    expect(events.map((e) => [e.user, e.mode, e.phase]).sort()).toEqual([
      ['alice', 'auto', 'init'],
      ['system', 'auto', 'standby'],
      ['system', 'auto', 'update_servers'],
    ]);
    expect(events.find((e) => e.user === 'alice')).toMatchObject({ from_phase: 'standby', grace_period_seconds: 40 * 3600 });
    advance(40 * HOUR);
    expect(await auth.trusted('user')).toEqual([newPem]);
    expect(existsSync(join(dataDir, 'user-ca.key'))).toBe(false);
  });
});

describe('storedTrustedCertificates (the agent: no key access)', () => {
  it('trusts what StoredCertAuthorities trusts, through a rotation, without ever asking for a key', async () => {
    await ensureCertAuthorities(deps, initial(), 'test');
    const trusted = storedTrustedCertificates(deps.resources, clock, 0);
    const cas = new StoredCertAuthorities(deps, { cacheMs: 0 });
    expect(await trusted('user')).toEqual(await cas.trusted('user'));
    await rotate(deps, { type: 'user', mode: 'manual', phase: 'init' }, 'alice');
    const during = await trusted('user');
    expect(during).toHaveLength(2);
    expect(during).toEqual(await cas.trusted('user'));
    expect(await trusted('host')).toEqual([(await storedCa('host')).active.cert_pem]);
  });

  it('a missing CA is an error that says so', async () => {
    await expect(storedTrustedCertificates(deps.resources, clock)('user')).rejects.toThrow(/there is no user CA yet/);
  });
});
