import { describe, expect, it } from 'vitest';
import { accessRole } from '../../lib/core/builtin-roles.js';
import type { Identity } from '../../lib/core/identity.js';
import { clusterAllowed, clusterNotFound, kubePrincipals, resolveImpersonation } from '../../lib/core/kube-access.js';
import { matchesLabels } from '../../lib/core/label-match.js';
import type { Role } from '../../lib/core/resources.js';
import { expandTemplates } from '../../lib/core/trait-templates.js';

const role = (name: string, allow: Role['spec']['allow'], deny: Role['spec']['deny'] = {}): Role => ({
  kind: 'role',
  version: 'v7',
  metadata: { name },
  spec: { options: {}, allow, deny },
});
const identity = (roles: string[], traits: Identity['traits'] = {}): Identity => ({
  username: 'alice',
  roles,
  traits,
  connector: 'local',
  accessRequests: [],
  issuedAt: '',
});

describe('label selectors', () => {
  it.each([
    [{ '*': '*' }, { env: 'prod' }, true],
    [{ env: 'prod' }, { env: 'prod' }, true],
    [{ env: 'prod' }, { env: 'dev' }, false],
    [{ env: ['dev', 'prod'] }, { env: 'prod' }, true],
    [{ env: 'prod', team: 'payments' }, { env: 'prod' }, false],
    [{ env: 'pr*' }, { env: 'prod' }, true],
    [{ env: '^(dev|stage)$' }, { env: 'stage' }, true],
    [{ env: '^(dev|stage)$' }, { env: 'stage2' }, false],
    [{ env: 'prod.' }, { env: 'prodx' }, false],
    [{}, { env: 'prod' }, false],
    [{ '*': 'prod' }, { env: 'prod' }, false],
  ])('%j against %j is %s', (selector, labels, expected) => {
    expect(matchesLabels(selector, labels)).toBe(expected);
  });
});

describe('trait templates', () => {
  it.each([
    [['{{internal.kubernetes_groups}}'], { kubernetes_groups: ['devs', 'ops'] }, ['devs', 'ops']],
    [['{{internal.kubernetes_users}}'], {}, []],
    [['IAM#{{external.email}}'], { email: ['a@x'] }, ['IAM#a@x']],
    [['{{external["github_teams"]}}'], { github_teams: ['core'] }, ['core']],
    [['literal', 'literal'], {}, ['literal']],
  ])('%j with %j gives %j', (values, traits, expected) => {
    expect(expandTemplates(values, traits)).toEqual(expected);
  });
});

describe('kubernetes principals', () => {
  const prod = { name: 'prod', labels: { env: 'prod' } };
  it('gives the templated groups, with the username when no user is granted', () => {
    const granted = kubePrincipals(identity(['access'], { kubernetes_groups: ['devs'] }), [accessRole], prod);
    expect(granted).toEqual({ users: [], groups: ['devs'] });
    expect(resolveImpersonation('alice', granted, { users: [], groups: [] })).toEqual({
      users: ['alice'],
      groups: ['devs', 'system:authenticated'],
    });
  });

  it('refuses clusters whose labels no allowing role matches, or a denying role matches', () => {
    const devOnly = role('dev-only', { kubernetes_labels: { env: 'dev' }, kubernetes_groups: ['devs'] });
    // Answered as an unknown cluster: not_found, nothing of its labels or of the roles.
    const refused = (() => {
      try {
        kubePrincipals(identity(['dev-only']), [devOnly], { name: 'prod', labels: { env: 'prod', owner: 'payments-team' } });
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toMatchObject({
      code: 'not_found',
      message: 'kubernetes cluster "prod" not found; tsh kube ls lists the clusters you may reach',
    });
    expect(refused).toEqual(clusterNotFound('prod'));
    const noProd = role('no-prod', {}, { kubernetes_labels: { env: 'prod' } });
    expect(clusterAllowed([accessRole, noProd], prod)).toBe(false);
    expect(() => kubePrincipals(identity(['access', 'no-prod']), [accessRole, noProd], prod)).toThrow(clusterNotFound('prod').message);
  });

  it('removes denied groups and refuses when nothing is left', () => {
    const denyMasters = role('deny-masters', {}, { kubernetes_groups: ['system:masters'] });
    const granted = kubePrincipals(
      identity(['access', 'deny-masters'], { kubernetes_groups: ['devs', 'system:masters'] }),
      [accessRole, denyMasters],
      prod,
    );
    expect(granted.groups).toEqual(['devs']);
    expect(() => kubePrincipals(identity(['access']), [accessRole], prod)).toThrow(/grant no Kubernetes user or group on cluster "prod"/);
  });

  it.each([
    [{ users: ['admin'], groups: [] }, /do not allow kubectl --as admin/],
    [{ users: ['alice', 'bob'], groups: [] }, /only one Impersonate-User/],
    [{ users: [], groups: ['system:masters'] }, /do not allow kubectl --as-group system:masters/],
  ])('refuses impersonation beyond the roles: %j', (asked, message) => {
    expect(() => resolveImpersonation('alice', { users: [], groups: ['devs'] }, asked)).toThrow(message);
  });

  it('asks the user to choose when several users are allowed', () => {
    expect(() => resolveImpersonation('alice', { users: ['a', 'b'], groups: [] }, { users: [], groups: [] })).toThrow(
      /please select a user/,
    );
    expect(resolveImpersonation('alice', { users: ['a', 'b'], groups: [] }, { users: ['b'], groups: [] }).users).toEqual(['b']);
  });
});
