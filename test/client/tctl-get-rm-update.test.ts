// tctl get in its three formats and Teleport's kind aliases, tctl rm for every kind with the
// refusals that protect access, and tctl users update, in this process against the real API.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ClientError } from '../../lib/client/api-client.js';
import { run as create } from '../../lib/client/commands/tctl-create.js';
import { run as get } from '../../lib/client/commands/tctl-get.js';
import { run as rm } from '../../lib/client/commands/tctl-rm.js';
import { run as usersUpdate } from '../../lib/client/commands/tctl-users-update.js';
import { redactResource } from '../../lib/core/resource-redaction.js';
import type { User } from '../../lib/core/resources.js';
import { type ClientHarness, startClientHarness, tctlRun } from './client-harness.js';
import { searchEvents } from '../support/audit-events.js';

describe('tctl get, rm and users update', () => {
  let harness: ClientHarness;
  let dir: string;
  const out = async (command: (deps: ReturnType<typeof tctlRun>['deps']) => Promise<void>) => {
    const run = tctlRun(harness);
    await command(run.deps);
    return run.stdout.text();
  };
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (error: Error) => error.message,
    );

  beforeAll(async () => {
    harness = await startClientHarness();
    dir = mkdtempSync(join(tmpdir(), 'kubeport-get-'));
    const file = join(dir, 'setup.yaml');
    writeFileSync(
      file,
      [
        'kind: role\nversion: v7\nmetadata:\n  name: devs\nspec:\n  allow:\n    kubernetes_labels:\n      env: dev\n    kubernetes_groups: [devs]\n',
        'kind: kube_cluster\nmetadata:\n  name: dev-1\n  labels:\n    env: dev\n',
        'kind: user\nmetadata:\n  name: alice\nspec:\n  roles: [devs]\n  traits:\n    kubernetes_groups: [g0]\n',
      ].join('---\n'),
    );
    await create({ file, force: false }, tctlRun(harness).deps);
  });
  afterAll(() => harness?.close());

  it('prints YAML documents separated by --- that tctl create reads back, a JSON array, or a table', async () => {
    const yaml = await out((deps) => get({ resource: 'roles' }, deps));
    const documents = parseAllDocuments(yaml);
    const names = Array.isArray(documents) ? documents.map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name) : [];
    expect(names.sort()).toEqual(['access', 'auditor', 'devs', 'editor']);
    const json = JSON.parse(await out((deps) => get({ resource: 'role/devs', format: 'json' }, deps))) as unknown[];
    expect(json).toEqual([expect.objectContaining({ kind: 'role', metadata: { name: 'devs' } })]);
    expect(await out((deps) => get({ resource: 'kube_clusters', format: 'text' }, deps))).toBe(
      'Kube Cluster Name Labels  Source     Status\n----------------- ------- ---------- -------\ndev-1             env=dev kubeconfig unknown\n',
    );
    expect(await out((deps) => get({ resource: 'USERS', format: 'text' }, deps))).toBe(
      'User  Roles Connector\n----- ----- ---------\nalice devs  local\n',
    );
    expect(await out((deps) => get({ resource: 'role/devs', format: 'text' }, deps))).toBe(
      [
        'Role Kubernetes Labels Kubernetes Groups Kubernetes Users Rules',
        '---- ----------------- ----------------- ---------------- -----',
        'devs env=dev           devs',
        '',
      ].join('\n'),
    );
  });

  it('what get prints, create --force takes back unchanged', async () => {
    const file = join(dir, 'roundtrip.yaml');
    writeFileSync(
      file,
      (await out((deps) => get({ resource: 'role/devs' }, deps))) + '---\n' + (await out((deps) => get({ resource: 'user/alice' }, deps))),
    );
    const before = (await harness.deps.resources.get('role', 'devs'))!.body;
    expect(await out((deps) => create({ file, force: true }, deps))).toBe('role "devs" has been updated\nuser "alice" has been updated\n');
    expect((await harness.deps.resources.get('role', 'devs'))!.body).toEqual(before);
  });

  it('names the kind meant, a format that exists and a name that is near', async () => {
    expect(await refusal(get({ resource: 'rolez' }, tctlRun(harness).deps))).toBe(
      'unknown kind "rolez"; did you mean role? kinds are role, user, kube_cluster, github, lock',
    );
    expect(await refusal(get({ resource: 'roles', format: 'xml' }, tctlRun(harness).deps))).toBe(
      '--format=xml is not a format; use yaml, json or text',
    );
    expect(await refusal(get({ resource: 'role/dev' }, tctlRun(harness).deps))).toBe(
      'role "dev" not found; did you mean devs? tctl get role lists them',
    );
  });

  it('never shows a connector secret', () => {
    const connector = {
      kind: 'github',
      metadata: { name: 'gh' },
      spec: { client_id: 'id', client_secret: 's3cret', client_secret_sealed: 'x' },
    };
    expect(JSON.stringify(redactResource('github', connector))).not.toMatch(/s3cret|sealed/);
    expect(redactResource('role', connector)).toBe(connector);
  });

  it('GitHub connectors: the secret is sealed and never printed in any format, roles they name must exist, rm is audited', async () => {
    const connector = (roles: string) =>
      [
        'kind: github',
        'version: v3',
        'metadata:',
        '  name: gh',
        'spec:',
        '  client_id: the-id',
        '  client_secret: the-very-secret',
        '  redirect_url: https://kubeport.example.com/v1/webapi/github/callback',
        '  teams_to_roles:',
        `    - {organization: acme, team: devs, roles: [${roles}]}`,
        '',
      ].join('\n');
    const file = join(dir, 'github.yaml');
    writeFileSync(file, connector('dvs'));
    expect(await refusal(create({ file, force: false }, tctlRun(harness).deps))).toBe(
      `${file} has a problem; nothing was changed:\n${file}:10:48: document 1 (github "gh"): spec.teams_to_roles[0].roles[0]: role "dvs" does not exist; did you mean devs? create it first or in this file (roles: access, auditor, devs, editor)`,
    );
    writeFileSync(file, connector('devs'));
    expect(await out((deps) => create({ file, force: false }, deps))).toBe('github "gh" has been created\n');
    expect(JSON.stringify(await harness.deps.resources.get('github', 'gh'))).not.toContain('the-very-secret');
    for (const [resource, format] of [
      ['github', 'yaml'],
      ['connectors', 'json'],
      ['github/gh', 'text'],
    ] as const) {
      const shown = await out((deps) => get({ resource, format }, deps));
      expect(shown).toContain('gh');
      expect(shown).not.toMatch(/the-very-secret|client_secret/);
    }
    expect(await out((deps) => get({ resource: 'github', format: 'text' }, deps))).toBe(
      'Name Display Teams To Roles\n---- ------- --------------\ngh           acme/devs:devs\n',
    );
    // A connector naming a role keeps it from being removed.
    expect(await refusal(rm({ resource: 'role/devs' }, tctlRun(harness).deps))).toBe(
      'role "devs" is still used by connector "gh", user "alice"; change them first (for a connector, tctl get github/gh > connector.yaml, take "devs" out of teams_to_roles, then tctl create --force -f connector.yaml; for a user, tctl users update alice --set-roles=...), then remove the role',
    );
    const from = new Date(harness.clock.now().getTime() - 60_000);
    expect(await out((deps) => rm({ resource: 'connector/gh' }, deps))).toBe('github "gh" has been deleted\n');
    const events = await searchEvents(harness.deps.audit, {
      from,
      to: new Date(harness.clock.now().getTime() + 60_000),
      event: 'github.deleted',
    });
    expect(events).toEqual([expect.objectContaining({ event: 'github.deleted', code: 'T8001I', user: 'kubeport-admin', name: 'gh' })]);
  });

  it('rm refuses a built-in role and a role still in use, each with the fix; removes the rest', async () => {
    expect(await refusal(rm({ resource: 'role/access' }, tctlRun(harness).deps))).toBe(
      'role "access" is built in and cannot be removed; to change what it allows, replace it with tctl create --force',
    );
    expect(await refusal(rm({ resource: 'role/devs' }, tctlRun(harness).deps))).toBe(
      'role "devs" is still used by user "alice"; change them first (for a user, tctl users update alice --set-roles=...), then remove the role',
    );
    expect(await harness.deps.resources.get('role', 'devs')).toBeDefined();
    expect(await refusal(rm({ resource: 'nodes/x' }, tctlRun(harness).deps))).toBe(
      'unknown kind "nodes"; kinds are role, user, kube_cluster, github, lock',
    );
    expect(await out((deps) => rm({ resource: 'kube_clusters/dev-1' }, deps))).toBe('kube_cluster "dev-1" has been deleted\n');
    // A stored replacement of a built-in role can be removed: the built-in one applies again.
    const file = join(dir, 'access.yaml');
    writeFileSync(file, 'kind: role\nversion: v7\nmetadata:\n  name: access\nspec: {}\n');
    expect(await out((deps) => create({ file, force: true }, deps))).toBe('role "access" has been updated\n');
    expect(await out((deps) => rm({ resource: 'role/access' }, deps))).toBe(
      'role "access" has been deleted; the built-in role of that name applies again\n',
    );
  });

  it('users update replaces the lists given, keeps the others, refuses unknown roles and revokes earlier certificates', async () => {
    const api = new ApiClient(harness.proxy, 'kubeport:kubeport-test', harness.clock);
    const before = await harness.identity({ username: 'alice', roles: ['devs'], connector: 'local' });
    // alice has no admin rules, but her certificate is accepted until the update (401 would mean revoked).
    expect(((await api.call('GET', '/webapi/admin/users', undefined, before).catch((e: ClientError) => e)) as ClientError).status).toBe(
      403,
    );
    harness.clock.advance(1000);

    expect(await out((deps) => usersUpdate({ name: 'alice', roles: ['access', 'devs'], kubernetesUsers: ['alice@corp'] }, deps))).toBe(
      [
        'User "alice" has been updated:',
        '  Roles:             access,devs',
        '  Kubernetes groups: g0',
        '  Kubernetes users:  alice@corp',
        'Certificates issued before now no longer work; alice gets the new access with tsh login.',
        '',
      ].join('\n'),
    );
    const stored = (await harness.deps.resources.get<User>('user', 'alice'))!.body;
    expect(stored.spec.roles).toEqual(['access', 'devs']);
    expect(stored.spec.traits).toMatchObject({ kubernetes_groups: ['g0'], kubernetes_users: ['alice@corp'] });
    const revoked = (await api.call('GET', '/webapi/admin/users', undefined, before).catch((e: ClientError) => e)) as ClientError;
    expect(revoked.status).toBe(401);
    expect(revoked.message).toContain('your certificate was revoked');

    // The same roles again (in another order) change nothing: no revocation, a certificate from now keeps working.
    harness.clock.advance(1000);
    const current = await harness.identity({ username: 'alice', roles: ['access', 'devs'], connector: 'local' });
    const storedBefore = JSON.stringify(await harness.deps.resources.get('user', 'alice'));
    expect(await out((deps) => usersUpdate({ name: 'alice', roles: ['devs', 'access'] }, deps))).toBe(
      [
        'User "alice" already has these; nothing changed:',
        '  Roles:             access,devs',
        '  Kubernetes groups: g0',
        '  Kubernetes users:  alice@corp',
        'Certificates issued before keep working.',
        '',
      ].join('\n'),
    );
    expect(JSON.stringify(await harness.deps.resources.get('user', 'alice'))).toBe(storedBefore);
    const kept = (await api.call('GET', '/webapi/admin/users', undefined, current).catch((e: ClientError) => e)) as ClientError;
    expect(kept.status).toBe(403);

    // An empty list clears one.
    await usersUpdate({ name: 'alice', kubernetesGroups: [] }, tctlRun(harness).deps);
    expect((await harness.deps.resources.get<User>('user', 'alice'))!.body.spec.traits.kubernetes_groups).toEqual([]);

    const unchanged = JSON.stringify(await harness.deps.resources.get('user', 'alice'));
    expect(await refusal(usersUpdate({ name: 'alice', roles: ['acess'] }, tctlRun(harness).deps))).toBe(
      'role acess does not exist; did you mean access? known roles: access, auditor, devs, editor',
    );
    expect(await refusal(usersUpdate({ name: 'alice', roles: [] }, tctlRun(harness).deps))).toBe(
      'give the user at least one role: --set-roles=access',
    );
    expect(await refusal(usersUpdate({ name: 'alice' }, tctlRun(harness).deps))).toBe(
      'nothing to update; give --set-roles, --set-kubernetes-groups or --set-kubernetes-users',
    );
    expect(await refusal(usersUpdate({ name: 'nobody', roles: ['access'] }, tctlRun(harness).deps))).toBe(
      'user nobody not found; add it with tctl users add nobody --roles=...',
    );
    expect(JSON.stringify(await harness.deps.resources.get('user', 'alice'))).toBe(unchanged);
  });
});
