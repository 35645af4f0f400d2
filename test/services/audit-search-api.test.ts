// GET /webapi/admin/audit/events: who may search (rules on `event`, as Teleport's), what the
// settings may be, and pages that follow one another through the cursor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ClientError } from '../../lib/client/api-client.js';
import type { AuditEvent } from '../../lib/core/ports.js';
import { auditQuery } from '../../lib/services/audit-search.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';

type Identity = { certPem: string; keyPem: string };

describe('audit search API', () => {
  let h: ApiHarness;
  let api: ApiClient;
  let admin: Identity;
  const events: AuditEvent[] = [];
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: ClientError) => e,
    );
  const search = (who: Identity, query: Record<string, string> = {}) => {
    const parameters = new URLSearchParams(query).toString();
    return api.call<{ events: AuditEvent[]; cursor?: string }>(
      'GET',
      `/webapi/admin/audit/events${parameters ? `?${parameters}` : ''}`,
      undefined,
      who,
    );
  };

  async function userWith(name: string, roles: string[]): Promise<Identity> {
    await api.call('POST', '/webapi/admin/users', { name, roles }, admin);
    return h.identity({ username: name, roles, connector: 'local' });
  }

  beforeAll(async () => {
    h = await startApiHarness(new Date('2030-06-01T12:00:00.000Z'));
    api = new ApiClient(h.proxy, 'kubeport:kubeport-test', h.clock);
    admin = await h.identity({ username: 'kubeport-admin', roles: ['editor'] });
    for (let i = 0; i < 12; i++) {
      events.push({
        event: i % 3 === 0 ? 'exec' : 'kube.request',
        code: i % 3 === 0 ? 'T3002I' : 'T3009I',
        time: new Date(Date.parse('2030-06-01T11:00:00.000Z') + i * 60_000).toISOString(),
        uid: `event-${i}`,
        user: i % 2 === 0 ? 'alice' : 'bob',
        kubernetes_cluster: i < 6 ? 'prod' : 'staging',
        resource_namespace: 'web',
      });
    }
    await h.deps.audit.write(events);
  });
  afterAll(() => h.close());

  it('lets the editor and the auditor search, newest first, with filters', async () => {
    const auditor = await userWith('audra', ['auditor']);
    for (const who of [admin, auditor]) {
      const page = await search(who);
      expect(page.events.filter((e) => e.uid.startsWith('event-')).map((e) => e.uid)).toEqual(events.map((e) => e.uid).reverse());
    }
    const filtered = await search(auditor, { user: 'alice', type: 'exec', cluster: 'prod', namespace: 'web', since: '2h' });
    expect(filtered.events.map((e) => e.uid)).toEqual(['event-0']);
  });

  it('refuses a role without rules on event, naming the missing rule, and one that may list but not read', async () => {
    const developer = await userWith('dev', ['access']);
    const refused = await failure(search(developer));
    expect(refused.status).toBe(403);
    expect(refused.message).toBe(
      'your roles (access) do not allow list on event; an admin can add a rule {resources: [event], verbs: [list]} to one of your roles\n' +
        'your roles (access) do not allow read on event; an admin can add a rule {resources: [event], verbs: [read]} to one of your roles',
    );
    await api.call(
      'POST',
      '/webapi/admin/resources',
      {
        documents: [
          {
            kind: 'role',
            version: 'v7',
            metadata: { name: 'lister' },
            spec: { allow: { rules: [{ resources: ['event'], verbs: ['list'] }] } },
          },
        ],
      },
      admin,
    );
    const lister = await userWith('lister', ['lister']);
    expect((await failure(search(lister))).message).toMatch(/^your roles \(lister\) do not allow read on event; an admin can add a rule/);
    // The auditor changes nothing.
    const auditor = await userWith('audra2', ['auditor']);
    expect((await failure(api.call('DELETE', '/webapi/admin/users/dev', undefined, auditor))).status).toBe(403);
  });

  it('pages through every event once with the cursor it hands out', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await search(admin, {
        limit: '5',
        since: '2030-06-01T10:59:00Z',
        until: '2030-06-01T11:30:00Z',
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.events.map((e) => e.uid));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(events.map((e) => e.uid).reverse());
  });

  it.each([
    [
      { since: 'yesterday' },
      'since=yesterday is neither a duration back from now (30m, 1h, 7d) nor an RFC 3339 time (2026-12-02T10:00:00Z)',
    ],
    [{ until: '2030-02-30T00:00:00Z' }, /^until=2030-02-30T00:00:00Z is neither a duration/],
    [{ since: '1h', until: '2h' }, /^since \(2030-06-01T11:00:00.000Z\) is after until \(2030-06-01T10:00:00.000Z\)/],
    [{ limit: '0' }, 'limit=0 is not a number from 1 to 1000'],
    [{ limit: '1001' }, 'limit=1001 is not a number from 1 to 1000'],
    [{ limit: 'ten' }, 'limit=ten is not a number from 1 to 1000'],
    [{ user: '' }, 'user is empty; give a value or leave user out'],
    [{ type: 'kube request' }, 'type="kube request" is not a valid type'],
    [{ cluster: 'prod\u0000' }, /^cluster=.* is not a valid cluster$/],
    [{ cursor: 'garbage!' }, /^cursor is not valid: it is not a cursor/],
    [{ verb: 'get' }, 'unknown parameter verb; the search takes since, until, user, type, cluster, namespace, session, limit, cursor'],
  ])('refuses %j, naming the setting', async (query, message) => {
    const refused = await failure(search(admin, query));
    expect(refused.status).toBe(400);
    expect(refused.message).toMatch(
      typeof message === 'string' ? new RegExp(`^${message.replace(/[()[\]{}.*+?^$|\\]/g, '\\$&')}$`) : message,
    );
  });

  it('reads since and until as durations back from now or as RFC 3339 times, and defaults to the last hour', () => {
    const now = new Date('2030-06-01T12:00:00.000Z');
    expect(auditQuery({}, now)).toEqual({ from: new Date('2030-06-01T11:00:00.000Z'), to: now, limit: 100 });
    const week = auditQuery({ since: '7d', until: '1h30m' }, now);
    expect([week.from.toISOString(), week.to.toISOString()]).toEqual(['2030-05-25T12:00:00.000Z', '2030-06-01T10:30:00.000Z']);
    const offset = auditQuery({ since: '2030-06-01T10:00:00+02:00', until: '2030-06-01T09:00:00.5Z' }, now);
    expect([offset.from.toISOString(), offset.to.toISOString()]).toEqual(['2030-06-01T08:00:00.000Z', '2030-06-01T09:00:00.500Z']);
  });
});
