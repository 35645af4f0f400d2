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
    KUBEPORT_GITHUB_CLIENT_ID: 'Iv1.deploy',
    KUBEPORT_GITHUB_ADMIN_TEAMS: teams,
    KUBEPORT_GITHUB_CALLBACK_URL: 'https://abc123.execute-api.eu-west-1.amazonaws.com/webapi/github/callback',
    ...extra,
  }) as DeploymentGitHubSettings;

describe("the deployment's GitHub connector", () => {
  let h: ApiHarness;
  const stored = async () => (await h.deps.resources.get<{ spec: unknown }>('github', 'github'))?.body;
  const events = async (event: string) =>
    searchEvents(h.deps.audit, { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 86_400_000), event });

  beforeAll(async () => {
    h = await startApiHarness();
  });
  afterAll(() => h.close());
  beforeEach(async () => {
    await h.deps.resources.delete('github', 'github');
  });

  it('takes the admin teams as one comma-separated string, spaces and empty entries ignored', () => {
    expect(settings('acme/a, acme/b,').KUBEPORT_GITHUB_ADMIN_TEAMS).toEqual(['acme/a', 'acme/b']);
  });

  it('maps each admin team to editor and access, takes its secret from the deployment, and passes the connector schema', () => {
    const connector = deploymentConnector(settings('acme/platform-admins, acme/sre'));
    expect(githubConnectorSchema.safeParse(connector).success).toBe(true);
    expect(connector.metadata.name).toBe('github');
    expect(connector.spec.client_secret_source).toBe('secrets_manager');
    expect(connector.spec).not.toHaveProperty('client_secret');
    // The deployment's secret goes to github.com only: the connector names no other GitHub.
    expect(connector.spec).not.toHaveProperty('endpoint_url');
    expect(connector.spec).not.toHaveProperty('api_endpoint_url');
    expect(mapTeams(connector, 'mona', [{ organization: 'acme', slug: 'sre', name: 'SRE' }]).roles).toEqual(['editor', 'access']);
    expect(mapTeams(connector, 'eve', [{ organization: 'evil', slug: 'sre', name: 'SRE' }]).roles).toEqual([]);
  });

  it('refuses settings it cannot turn into a connector, naming the property', () => {
    expect(() => settings('acme')).toThrow(/KUBEPORT_GITHUB_ADMIN_TEAMS.*org\/team-slug/);
    expect(() => settings(' , ')).toThrow(/KUBEPORT_GITHUB_ADMIN_TEAMS names no team/);
    expect(() =>
      deploymentGitHubSettings({ KUBEPORT_GITHUB_ADMIN_TEAMS: 'acme/admins', KUBEPORT_GITHUB_CALLBACK_URL: 'https://x/cb' }),
    ).toThrow(/KUBEPORT_GITHUB_CLIENT_ID/);
    expect(() => deploymentGitHubSettings({ KUBEPORT_GITHUB_CLIENT_ID: 'Iv1.x', KUBEPORT_GITHUB_ADMIN_TEAMS: 'acme/admins' })).toThrow(
      /KUBEPORT_GITHUB_CALLBACK_URL/,
    );
    // Without GitHub settings: no connector.
    expect(deploymentGitHubSettings({ KUBEPORT_GITHUB_CALLBACK_URL: 'https://x/cb' })).toBeUndefined();
  });

  it('creates the connector at the first deploy, audited as github.created by the deployment', async () => {
    expect(await applyDeploymentConnector(h.deps, deploymentConnector(settings('acme/admins')))).toBe('created');
    expect((await stored())!.spec).toEqual(deploymentConnector(settings('acme/admins')).spec);
    const created = (await events('github.created')).filter((e) => e.user === DEPLOYMENT_USER);
    expect(created.at(-1)).toMatchObject({ code: 'T8000I', kind: 'github', name: 'github' });
  });

  it('a later deploy with the same settings changes nothing', async () => {
    const desired = deploymentConnector(settings('acme/admins'));
    await applyDeploymentConnector(h.deps, desired);
    const before = await h.deps.resources.get('github', 'github');
    expect(await applyDeploymentConnector(h.deps, desired)).toBe('unchanged');
    expect((await h.deps.resources.get('github', 'github'))!.revision).toBe(before!.revision);
  });

  it("a later deploy with other teams updates the deployment's own connector", async () => {
    const first = deploymentConnector(settings('acme/admins'));
    await applyDeploymentConnector(h.deps, first);
    const second = deploymentConnector(settings('acme/admins,acme/oncall'));
    expect(await applyDeploymentConnector(h.deps, second)).toBe('updated');
    expect((await stored())!.spec).toEqual(second.spec);
    expect((await events('github.updated')).some((e) => e.user === DEPLOYMENT_USER)).toBe(true);
  });

  it("never overwrites a connector an admin has edited (its label kept, as a tctl round trip keeps it), nor one that was there before the deployment's", async () => {
    const first = deploymentConnector(settings('acme/admins'));
    await applyDeploymentConnector(h.deps, first);
    const written = (await h.deps.resources.get<typeof first>('github', 'github'))!.body;
    const edited = {
      ...written,
      spec: { ...written.spec, teams_to_roles: [{ organization: 'acme', team: 'admins', roles: ['auditor'] }] },
    };
    await h.deps.resources.put('github', 'github', edited);
    const second = deploymentConnector(settings('acme/admins,acme/oncall'));
    expect(await applyDeploymentConnector(h.deps, second)).toBe('kept');
    expect(await stored()).toEqual(edited);
    // A connector an admin made with tctl before the deployment wrote one: no label.
    await h.deps.resources.put('github', 'github', first);
    expect(await applyDeploymentConnector(h.deps, second)).toBe('kept');
    expect(await stored()).toEqual(first);
  });
});
