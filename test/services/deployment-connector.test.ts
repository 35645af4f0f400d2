// The GitHub connector a deployment writes from githubAdminTeams: created at the first deploy and
// audited as the deployment's, changed by a later deploy only while it is still what the deployment
// wrote, never over an admin's edit.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEPLOYMENT_USER,
  deploymentConnector,
  deploymentGitHubSettings,
  type DeploymentGitHubSettings,
} from '../../lib/core/deployment-connector.js';
import { githubConnectorSchema, mapTeams } from '../../lib/core/github-connector.js';
import { applyDeploymentConnector } from '../../lib/services/deployment-connector.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';
import { searchEvents } from '../support/audit-events.js';

const settings = (teams: string, extra: Record<string, string> = {}) =>
  deploymentGitHubSettings({
    GitHubClientId: 'Iv1.deploy',
    GitHubAdminTeams: teams,
    CallbackUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/webapi/github/callback',
    ...extra,
  }) as DeploymentGitHubSettings;

describe("the deployment's GitHub connector", () => {
  let h: ApiHarness;
  const stored = async () => (await h.deps.resources.get<Record<string, never>>('github', 'github'))?.body;
  const events = async (event: string) =>
    searchEvents(h.deps.audit, { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 86_400_000), event });

  beforeAll(async () => {
    h = await startApiHarness();
  });
  afterAll(() => h.close());
  beforeEach(async () => {
    await h.deps.resources.delete('github', 'github');
  });

  it('takes the admin teams as the list the stack passes, or as one comma-separated string', () => {
    const fromList = deploymentGitHubSettings({
      GitHubClientId: 'Iv1.x',
      GitHubAdminTeams: ['acme/a', 'acme/b'],
      CallbackUrl: 'https://x/cb',
    });
    expect(fromList!.GitHubAdminTeams).toEqual(['acme/a', 'acme/b']);
    expect(settings('acme/a, acme/b').GitHubAdminTeams).toEqual(['acme/a', 'acme/b']);
  });

  it('maps each admin team to editor and access, takes its secret from the deployment, and passes the connector schema', () => {
    const connector = deploymentConnector(settings('acme/platform-admins, acme/sre'));
    expect(githubConnectorSchema.safeParse(connector).success).toBe(true);
    expect(connector.metadata.name).toBe('github');
    expect(connector.spec.client_secret_source).toBe('secrets_manager');
    expect(connector.spec).not.toHaveProperty('client_secret');
    expect(mapTeams(connector, 'mona', [{ organization: 'acme', slug: 'sre', name: 'SRE' }]).roles).toEqual(['editor', 'access']);
    expect(mapTeams(connector, 'eve', [{ organization: 'evil', slug: 'sre', name: 'SRE' }]).roles).toEqual([]);
  });

  it('refuses settings it cannot turn into a connector, naming the property', () => {
    expect(() => settings('acme')).toThrow(/GitHubAdminTeams.*org\/team-slug/);
    expect(() => settings(' , ')).toThrow(/GitHubAdminTeams names no team/);
    expect(() => deploymentGitHubSettings({ GitHubAdminTeams: ['acme/admins'], CallbackUrl: 'https://x/cb' })).toThrow(/GitHubClientId/);
    // Without GitHub settings (CallbackUrl is always there): no connector.
    expect(deploymentGitHubSettings({ ServiceToken: 'arn:aws:lambda:...', CallbackUrl: 'https://x/cb' })).toBeUndefined();
  });

  it('creates the connector at the first deploy, audited as github.created by the deployment', async () => {
    expect(await applyDeploymentConnector(h.deps, deploymentConnector(settings('acme/admins')), undefined)).toBe('created');
    expect(await stored()).toEqual(deploymentConnector(settings('acme/admins')));
    const created = (await events('github.created')).filter((e) => e.user === DEPLOYMENT_USER);
    expect(created.at(-1)).toMatchObject({ code: 'T8000I', kind: 'github', name: 'github' });
  });

  it('a later deploy with the same settings changes nothing', async () => {
    const desired = deploymentConnector(settings('acme/admins'));
    await applyDeploymentConnector(h.deps, desired, undefined);
    const before = await h.deps.resources.get('github', 'github');
    expect(await applyDeploymentConnector(h.deps, desired, desired)).toBe('unchanged');
    expect((await h.deps.resources.get('github', 'github'))!.revision).toBe(before!.revision);
  });

  it("a later deploy with other teams updates the deployment's own connector", async () => {
    const first = deploymentConnector(settings('acme/admins'));
    await applyDeploymentConnector(h.deps, first, undefined);
    const second = deploymentConnector(settings('acme/admins,acme/oncall'));
    expect(await applyDeploymentConnector(h.deps, second, first)).toBe('updated');
    expect(await stored()).toEqual(second);
    expect((await events('github.updated')).some((e) => e.user === DEPLOYMENT_USER)).toBe(true);
  });

  it("never overwrites a connector an admin has edited, nor one that was there before the deployment's", async () => {
    const first = deploymentConnector(settings('acme/admins'));
    await applyDeploymentConnector(h.deps, first, undefined);
    const edited = { ...first, spec: { ...first.spec, teams_to_roles: [{ organization: 'acme', team: 'admins', roles: ['auditor'] }] } };
    await h.deps.resources.put('github', 'github', edited);
    const second = deploymentConnector(settings('acme/admins,acme/oncall'));
    expect(await applyDeploymentConnector(h.deps, second, first)).toBe('kept');
    expect(await stored()).toEqual(edited);
    // A first deploy (Create) over a connector an admin made with tctl.
    expect(await applyDeploymentConnector(h.deps, second, undefined)).toBe('kept');
    expect(await stored()).toEqual(edited);
  });
});
