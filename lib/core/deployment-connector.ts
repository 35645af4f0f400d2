// The GitHub connector a deployment creates so that its first admin logs in with GitHub and no one
// edits a table by hand: each team of githubAdminTeams gets the editor and access roles, and the
// client secret is the deployment's (Secrets Manager), never stored in the connector.
import * as z from 'zod';
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
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9_.-]+$/, 'each entry is org/team-slug, e.g. acme/platform-admins');

/**
 * The deployment's GitHub settings among the custom resource's properties, as the stack passes
 * them (lib/infra/ca-bootstrap.ts): CloudFormation gives strings, and lists as arrays of strings.
 */
export const deploymentGitHubSchema = z.object({
  GitHubClientId: z.string().trim().min(1, 'GitHubClientId is empty'),
  /** `org/team` slugs: a list, or one comma-separated string. */
  GitHubAdminTeams: z
    .union([z.array(z.string()), z.string().transform((text) => text.split(','))])
    .transform((entries) => entries.filter((entry) => entry.trim() !== ''))
    .pipe(z.array(team).min(1, 'GitHubAdminTeams names no team (org/team,…)')),
  /** The API's callback URL, https://<api>/webapi/github/callback: the OAuth app's callback URL too. */
  CallbackUrl: z.url('CallbackUrl must be the API URL of /webapi/github/callback'),
  GitHubDisplay: z.string().optional(),
  /** GitHub Enterprise Server (or a stand-in): web and API endpoints; github.com when absent. */
  GitHubEndpointUrl: z.string().optional(),
  GitHubApiEndpointUrl: z.string().optional(),
});
export type DeploymentGitHubSettings = z.output<typeof deploymentGitHubSchema>;

/**
 * The deployment's GitHub settings among a custom resource's properties: undefined when it has none
 * (no GitHubClientId and no GitHubAdminTeams); a message naming the property when they are bad.
 */
export function deploymentGitHubSettings(properties: Record<string, unknown>): DeploymentGitHubSettings | undefined {
  if (properties.GitHubClientId === undefined && properties.GitHubAdminTeams === undefined) return undefined;
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
      client_id: settings.GitHubClientId,
      client_secret_source: CLIENT_SECRET_FROM_DEPLOYMENT,
      redirect_url: settings.CallbackUrl,
      ...(settings.GitHubDisplay ? { display: settings.GitHubDisplay } : {}),
      ...(settings.GitHubEndpointUrl ? { endpoint_url: settings.GitHubEndpointUrl } : {}),
      ...(settings.GitHubApiEndpointUrl ? { api_endpoint_url: settings.GitHubApiEndpointUrl } : {}),
      teams_to_roles: settings.GitHubAdminTeams.map((entry) => {
        const [organization, slug] = entry.split('/') as [string, string];
        return { organization, team: slug, roles: DEPLOYMENT_ADMIN_ROLES };
      }),
    },
  });
}
