// Every admin call is decided by the caller's role rules, and every change leaves exactly one
// audit event in Teleport's names. A caller without the rule is refused with the rule to add,
// and nothing changes: not the store, not the audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ClientError } from '../../lib/client/api-client.js';
import type { AuditEvent } from '../../lib/core/ports.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';
import { searchEvents } from '../support/audit-events.js';

type Identity = { certPem: string; keyPem: string };

describe('admin rules and audit of changes', () => {
  let h: ApiHarness;
  let admin: Identity;
  let api: ApiClient;
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: ClientError) => e,
    );
  const role = (name: string, spec: unknown = {}) => ({ kind: 'role', version: 'v7', metadata: { name }, spec });
  const createDocs = (who: Identity, documents: unknown[], overwrite = false) =>
    api.call<{ results: unknown[] }>('POST', '/webapi/admin/resources', { documents, source: 'f.yaml', overwrite }, who);
  const allEvents = () =>
    searchEvents(h.deps.audit, {
      from: new Date(h.clock.now().getTime() - 60_000),
      to: new Date(h.clock.now().getTime() + 60_000),
      limit: 1000,
    });
  const snapshot = async () =>
    JSON.stringify(
      await Promise.all(
        ['role', 'user', 'kube_cluster'].map(async (kind) => (await h.deps.resources.list(kind)).map((r) => [r.name, r.revision])),
      ),
    );
  /** Runs `change` and returns the audit events it left. */
  async function eventsOf(change: () => Promise<unknown>): Promise<AuditEvent[]> {
    const before = new Set((await allEvents()).map((e) => e.uid));
    await change();
    return (await allEvents()).filter((e) => !before.has(e.uid));
  }

  beforeAll(async () => {
    h = await startApiHarness();
    admin = await h.identity({ username: 'kubeport-admin', roles: ['editor'] });
    api = new ApiClient(h.proxy, 'kubeport:kubeport-test', h.clock);
  });
  afterAll(() => h.close());

  it('each change leaves one event with the actor, the kind and the name, in Teleport names and codes', async () => {
    const connector = {
      kind: 'github',
      version: 'v3',
      metadata: { name: 'gh' },
      spec: {
        client_id: 'id',
        client_secret: 'secret',
        redirect_url: 'https://kubeport.example.com/v1/webapi/github/callback',
        teams_to_roles: [{ organization: 'acme', team: 'devs', roles: ['access'] }],
      },
    };
    const steps: [string, () => Promise<unknown>, Partial<AuditEvent>][] = [
      ['create role', () => createDocs(admin, [role('devs')]), { event: 'role.created', code: 'T9000I', kind: 'role', name: 'devs' }],
      ['replace role', () => createDocs(admin, [role('devs')], true), { event: 'role.updated', code: 'T9002I', name: 'devs' }],
      [
        'create kube_cluster',
        () => createDocs(admin, [{ kind: 'kube_cluster', metadata: { name: 'prod' } }]),
        { event: 'kube.create', code: 'T3010I', kind: 'kube_cluster', name: 'prod' },
      ],
      [
        'replace kube_cluster',
        () => createDocs(admin, [{ kind: 'kube_cluster', metadata: { name: 'prod' } }], true),
        { event: 'kube.update', code: 'T3011I', name: 'prod' },
      ],
      [
        'remove kube_cluster',
        () => api.call('DELETE', '/webapi/admin/resources/kube_cluster/prod', undefined, admin),
        { event: 'kube.delete', code: 'T3012I', name: 'prod' },
      ],
      [
        'create user from a file',
        () => createDocs(admin, [{ kind: 'user', metadata: { name: 'uma' }, spec: { roles: ['devs'] } }]),
        { event: 'user.create', code: 'T1002I', kind: 'user', name: 'uma', roles: ['devs'] },
      ],
      [
        'users update',
        () => api.call('POST', '/webapi/admin/users/uma/update', { roles: ['access'], kubernetes_groups: ['g1'] }, admin),
        { event: 'user.update', code: 'T1003I', name: 'uma', roles: ['access'], kubernetes_groups: ['g1'] },
      ],
      [
        'users add',
        () => api.call('POST', '/webapi/admin/users', { name: 'vic', roles: ['access'] }, admin),
        { event: 'user.create', code: 'T1002I', name: 'vic' },
      ],
      [
        'rm user',
        () => api.call('DELETE', '/webapi/admin/resources/users/vic', undefined, admin),
        { event: 'user.delete', code: 'T1004I', name: 'vic' },
      ],
      [
        'users rm',
        () => api.call('DELETE', '/webapi/admin/users/uma', undefined, admin),
        { event: 'user.delete', code: 'T1004I', name: 'uma' },
      ],
      [
        'create github connector',
        () => createDocs(admin, [connector]),
        { event: 'github.created', code: 'T8000I', kind: 'github', name: 'gh' },
      ],
      ['replace github connector', () => createDocs(admin, [connector], true), { event: 'github.updated', code: 'T80002I', name: 'gh' }],
      [
        'remove github connector',
        () => api.call('DELETE', '/webapi/admin/resources/github/gh', undefined, admin),
        { event: 'github.deleted', code: 'T8001I', name: 'gh' },
      ],
      [
        'rm role',
        () => api.call('DELETE', '/webapi/admin/resources/role/devs', undefined, admin),
        { event: 'role.deleted', code: 'T9001I', name: 'devs' },
      ],
    ];
    for (const [step, change, expected] of steps) {
      const events = await eventsOf(change);
      expect(events, step).toHaveLength(1);
      expect(events[0], step).toMatchObject({ user: 'kubeport-admin', ...expected });
    }
    // A file of three documents: three events, one each.
    const three = await eventsOf(() =>
      createDocs(admin, [role('a'), role('b'), { kind: 'user', metadata: { name: 'ann' }, spec: { roles: ['a'] } }]),
    );
    expect(three.map((e) => `${e.event} ${String(e.name)}`).sort()).toEqual(['role.created a', 'role.created b', 'user.create ann']);
    // A refused change leaves none.
    expect(await eventsOf(() => failure(createDocs(admin, [role('a')])))).toEqual([]);
  });

  it('a caller whose rules lack a verb is refused with the rule to add, and nothing changes', async () => {
    await createDocs(admin, [
      role('viewer', { allow: { rules: [{ resources: ['role', 'user', 'kube_cluster'], verbs: ['list', 'read'] }] } }),
      role('target'),
      { kind: 'user', metadata: { name: 'val' }, spec: { roles: ['viewer'] } },
      { kind: 'user', metadata: { name: 'tim' }, spec: { roles: ['access'] } },
    ]);
    const val = await h.identity({ username: 'val', roles: ['viewer'], connector: 'local' });
    // What val may do works.
    expect((await api.call<{ items: unknown[] }>('GET', '/webapi/admin/resources/roles', undefined, val)).items.length).toBeGreaterThan(2);
    const missing = (verb: string, resource: string) =>
      `your roles (viewer) do not allow ${verb} on ${resource}; an admin can add a rule {resources: [${resource}], verbs: [${verb}]} to one of your roles`;
    const attempts: [string, () => Promise<unknown>, string][] = [
      ['create a role', () => createDocs(val, [role('mine')]), missing('create', 'role')],
      ['replace a role', () => createDocs(val, [role('target')], true), `${missing('create', 'role')}\n${missing('update', 'role')}`],
      ['remove a role', () => api.call('DELETE', '/webapi/admin/resources/role/target', undefined, val), missing('delete', 'role')],
      ['add a user', () => api.call('POST', '/webapi/admin/users', { name: 'x', roles: ['access'] }, val), missing('create', 'user')],
      ['update a user', () => api.call('POST', '/webapi/admin/users/tim/update', { roles: ['editor'] }, val), missing('update', 'user')],
      [
        'give herself editor',
        () => api.call('POST', '/webapi/admin/users/val/update', { roles: ['editor'] }, val),
        missing('update', 'user'),
      ],
      ['reset a user', () => api.call('POST', '/webapi/admin/users/tim/reset', {}, val), missing('update', 'user')],
      ['remove a user', () => api.call('DELETE', '/webapi/admin/users/tim', undefined, val), missing('delete', 'user')],
      [
        'remove a user as a resource',
        () => api.call('DELETE', '/webapi/admin/resources/user/tim', undefined, val),
        missing('delete', 'user'),
      ],
      ['create a cluster', () => createDocs(val, [{ kind: 'kube_cluster', metadata: { name: 'c1' } }]), missing('create', 'kube_cluster')],
    ];
    for (const [attempt, call, message] of attempts) {
      const before = await snapshot();
      let refusal: ClientError | undefined;
      const events = await eventsOf(async () => (refusal = await failure(call())));
      expect(refusal?.status, attempt).toBe(403);
      expect(refusal?.message, attempt).toBe(message);
      expect(events, attempt).toEqual([]);
      expect(await snapshot(), attempt).toBe(before);
    }
  });

  it('a deny rule wins over an allow rule, and the message names the denying role', async () => {
    await createDocs(admin, [
      role('no-delete', {
        allow: { rules: [{ resources: ['*'], verbs: ['*'] }] },
        deny: { rules: [{ resources: ['role'], verbs: ['delete'] }] },
      }),
      { kind: 'user', metadata: { name: 'dee' }, spec: { roles: ['no-delete'] } },
    ]);
    const dee = await h.identity({ username: 'dee', roles: ['no-delete'], connector: 'local' });
    const refused = await failure(api.call('DELETE', '/webapi/admin/resources/role/target', undefined, dee));
    expect(refused.status).toBe(403);
    expect(refused.message).toBe(
      'role no-delete denies delete on role (a deny rule matches); an admin can remove that rule from role no-delete',
    );
    expect(await h.deps.resources.get('role', 'target')).toBeDefined();
    // Everything else is allowed.
    await api
      .call('DELETE', '/webapi/admin/resources/kube_cluster/none', undefined, dee)
      .catch((e: ClientError) => expect(e.status).toBe(404));
  });
});
