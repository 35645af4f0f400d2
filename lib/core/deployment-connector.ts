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
 * The deployment's GitHub settings, as the stack sets them in the CA bootstrap function's
 * environment (lib/infra/control-plane-functions.ts). Never from the custom resource's properties:
 * whoever may invoke the function can send any event, but only the stack sets its environment.
 */
export const deploymentGitHubSchema = z.object({
  KUBEPORT_GITHUB_CLIENT_ID: z.string().trim().min(1, 'KUBEPORT_GITHUB_CLIENT_ID is empty (githubClientId)'),
  /** `org/team` slugs, comma-separated. */
  KUBEPORT_GITHUB_ADMIN_TEAMS: z
    .string()
    .transform((text) => text.split(',').filter((entry) => entry.trim() !== ''))
    .pipe(z.array(team).min(1, 'KUBEPORT_GITHUB_ADMIN_TEAMS names no team (githubAdminTeams: org/team,…)')),
  /** The API's callback URL, https://<api>/webapi/github/callback: the OAuth app's callback URL too. */
  KUBEPORT_GITHUB_CALLBACK_URL: z.url('KUBEPORT_GITHUB_CALLBACK_URL must be the API URL of /webapi/github/callback'),
});
export type DeploymentGitHubSettings = z.output<typeof deploymentGitHubSchema>;
export type DeploymentGitHubInput = Partial<Record<keyof DeploymentGitHubSettings, string>>;

/**
 * The deployment's GitHub settings: undefined when it has none (no client ID and no admin teams);
 * a message naming the variable when they are bad.
 */
export function deploymentGitHubSettings(input: DeploymentGitHubInput): DeploymentGitHubSettings | undefined {
  if (input.KUBEPORT_GITHUB_CLIENT_ID === undefined && input.KUBEPORT_GITHUB_ADMIN_TEAMS === undefined) return undefined;
  const result = deploymentGitHubSchema.safeParse(input);
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
    // No endpoints: the deployment's secret goes only to the deployment's GitHub (github.com).
    spec: {
      client_id: settings.KUBEPORT_GITHUB_CLIENT_ID,
      client_secret_source: CLIENT_SECRET_FROM_DEPLOYMENT,
      redirect_url: settings.KUBEPORT_GITHUB_CALLBACK_URL,
      teams_to_roles: settings.KUBEPORT_GITHUB_ADMIN_TEAMS.map((entry) => {
        const [organization, slug] = entry.split('/') as [string, string];
        return { organization, team: slug, roles: DEPLOYMENT_ADMIN_ROLES };
      }),
    },
  });
}
