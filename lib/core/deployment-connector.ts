// The GitHub connector a deployment creates so that its first admin logs in with GitHub and no one
// edits a table by hand: each team of githubAdminTeams gets the editor and access roles, and the
// client secret is the deployment's (Secrets Manager), never stored in the connector.
import { z } from 'zod';
import { CLIENT_SECRET_FROM_DEPLOYMENT, type GitHubConnector, githubConnectorSchema } from './github-connector.js';

/** Who the audit log names for what the deployment itself changes. */
export const DEPLOYMENT_USER = 'kubeport-deploy';
/** The connector's name: the one tsh uses without --auth. */
export const DEPLOYMENT_CONNECTOR_NAME = 'github';
/** Roles each admin team is mapped to. */
export const DEPLOYMENT_ADMIN_ROLES = ['editor', 'access'];

const team = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, 'each entry is org/team-slug, e.g. acme/platform-admins');

/** The deployment's GitHub settings as the stack passes them (CloudFormation gives every property as a string). */
export const deploymentGitHubSchema = z.object({
  githubClientId: z.string().trim().min(1, 'githubClientId is empty'),
  githubAdminTeams: z
    .string()
    .transform((text) => text.split(',').filter((entry) => entry.trim() !== ''))
    .pipe(z.array(team).min(1, 'githubAdminTeams names no team (org/team,…)')),
  /** The API's callback URL, https://<api>/webapi/github/callback: the OAuth app's callback URL too. */
  githubCallbackUrl: z.url('githubCallbackUrl must be the API URL of /webapi/github/callback'),
  githubDisplay: z.string().optional(),
  /** GitHub Enterprise Server (or a stand-in): web and API endpoints; github.com when absent. */
  githubEndpointUrl: z.string().optional(),
  githubApiEndpointUrl: z.string().optional(),
});
export type DeploymentGitHubSettings = z.output<typeof deploymentGitHubSchema>;

/**
 * The deployment's GitHub settings among a custom resource's properties: undefined when it has none
 * (no githubClientId and no githubAdminTeams); a message naming the property when they are bad.
 */
export function deploymentGitHubSettings(properties: Record<string, unknown>): DeploymentGitHubSettings | undefined {
  if (properties.githubClientId === undefined && properties.githubAdminTeams === undefined) return undefined;
  const result = deploymentGitHubSchema.safeParse(properties);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`the deployment's GitHub settings are bad: ${problems.join('; ')}`);
}

/** The connector the settings describe, as it is stored (it holds no secret). */
export function deploymentConnector(settings: DeploymentGitHubSettings): GitHubConnector {
  return githubConnectorSchema.parse({
    kind: 'github',
    version: 'v3',
    metadata: { name: DEPLOYMENT_CONNECTOR_NAME, description: 'Created by the deployment from githubAdminTeams' },
    spec: {
      client_id: settings.githubClientId,
      client_secret_source: CLIENT_SECRET_FROM_DEPLOYMENT,
      redirect_url: settings.githubCallbackUrl,
      ...(settings.githubDisplay ? { display: settings.githubDisplay } : {}),
      ...(settings.githubEndpointUrl ? { endpoint_url: settings.githubEndpointUrl } : {}),
      ...(settings.githubApiEndpointUrl ? { api_endpoint_url: settings.githubApiEndpointUrl } : {}),
      teams_to_roles: settings.githubAdminTeams.map((entry) => {
        const [organization, slug] = entry.split('/') as [string, string];
        return { organization, team: slug, roles: DEPLOYMENT_ADMIN_ROLES };
      }),
    },
  });
}
