// When a write of tctl create fails after others went through (someone changed a resource in
// between, or the store failed), the ones written are put back and the answer says exactly what
// stands. The store here is the real one; only the failure is injected at the port, since a
// concurrent writer cannot be timed between two writes from outside.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, KubeportError } from '../../lib/core/errors.js';
import type { CertifiedIdentity } from '../../lib/core/identity.js';
import type { PutOptions, ResourceStore, StoredResource } from '../../lib/core/ports.js';
import type { ServiceDeps } from '../../lib/services/deps.js';
import { createResources } from '../../lib/services/resource-batch.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';
import { searchEvents } from '../support/audit-events.js';

/** The real store, except that the writes `fail` names throw. */
function storeFailingOn(real: ResourceStore, fail: { put?: string; delete?: string; error: () => Error }): ResourceStore {
  return {
    get: (kind, name) => real.get(kind, name),
    list: (kind) => real.list(kind),
    put: <T>(kind: string, name: string, body: T, options?: PutOptions): Promise<StoredResource<T>> =>
      fail.put === `${kind}/${name}` ? Promise.reject(fail.error()) : real.put(kind, name, body, options),
    delete: (kind, name, options) => (fail.delete === `${kind}/${name}` ? Promise.reject(fail.error()) : real.delete(kind, name, options)),
  };
}

describe('tctl create when a write fails midway', () => {
  let h: ApiHarness;
  const admin: CertifiedIdentity = {
    username: 'kubeport-admin',
    roles: ['editor'],
    traits: {},
    connector: 'builtin',
    accessRequests: [],
    issuedAt: new Date().toISOString(),
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 3_600_000),
    serialNumber: '1',
  };
  const role = (name: string, groups: string[]) => ({
    kind: 'role',
    version: 'v7',
    metadata: { name },
    spec: { allow: { kubernetes_groups: groups } },
  });
  const file = [role('r1', ['new']), role('r2', ['new']), { kind: 'user', metadata: { name: 'u' }, spec: { roles: ['r2'] } }];
  const stored = async () =>
    Promise.all([h.deps.resources.get('role', 'r1'), h.deps.resources.get('role', 'r2'), h.deps.resources.get('user', 'u')]).then((all) =>
      all.map((r) => (r ? (r.body as { spec: unknown }).spec : undefined)),
    );

  beforeAll(async () => {
    h = await startApiHarness();
    await createResources(h.deps, admin, { documents: [role('r1', ['old'])], source: 'setup.yaml', overwrite: false });
  });
  afterAll(() => h.close());

  it('puts back what it wrote and says so, leaving no audit event', async () => {
    const before = await stored();
    const deps: ServiceDeps = {
      ...h.deps,
      resources: storeFailingOn(h.deps.resources, { put: 'user/u', error: () => new ConflictError('user "u" was changed concurrently') }),
    };
    const audited = (await searchEvents(h.deps.audit, { from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) })).length;
    const failure = await createResources(deps, admin, { documents: file, source: 'f.yaml', overwrite: true }).catch(
      (e: KubeportError) => e,
    );
    expect(failure).toBeInstanceOf(KubeportError);
    expect((failure as KubeportError).code).toBe('conflict');
    expect((failure as KubeportError).message).toBe(
      'writing user "u" (document 3 of f.yaml) failed: it was changed by someone else meanwhile; put back as they were: role "r2", role "r1"; nothing was changed; run tctl create again',
    );
    expect(await stored()).toEqual(before);
    expect((await searchEvents(h.deps.audit, { from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) })).length).toBe(
      audited,
    );
  });

  it('names what it could not put back', async () => {
    const deps: ServiceDeps = {
      ...h.deps,
      resources: storeFailingOn(h.deps.resources, { put: 'user/u', delete: 'role/r2', error: () => new Error('store unavailable') }),
    };
    const failure = (await createResources(deps, admin, { documents: file, source: 'f.yaml', overwrite: true }).catch(
      (e: unknown) => e,
    )) as KubeportError;
    expect(failure.code).toBe('internal');
    expect(failure.message).toBe(
      'writing user "u" (document 3 of f.yaml) failed: the store failed; put back as they were: role "r1"; could NOT put back role "r2", which now stand as f.yaml says (check them with tctl get); run tctl create again',
    );
    const [r1, r2, u] = await stored();
    expect(r1).toMatchObject({ allow: { kubernetes_groups: ['old'] } });
    expect(r2).toMatchObject({ allow: { kubernetes_groups: ['new'] } });
    expect(u).toBeUndefined();
  });
});
