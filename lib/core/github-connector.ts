// The GitHub connector (kind: github, version v3) as Teleport users write it, and the mapping of
// a user's GitHub teams to roles and traits.
import * as z from 'zod';
import { RESERVED_CONNECTOR_NAMES } from './user-standing.js';

const name = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-zA-Z0-9@._-]+$/, 'use letters, digits, @ . _ and - only');
const stringList = z.array(z.string());
// Certificates carry the connector's name; builtin marks the local admin identity, local marks
// password login and aws-iam the IAM break-glass callers.
const connectorName = name.refine((text) => !RESERVED_CONNECTOR_NAMES.includes(text), {
  message: `builtin, local and aws-iam are reserved connector names (builtin is the local admin identity, local is password login, aws-iam is tctl --aws-iam); name the connector something else, e.g. github`,
});

/** GitHub (and GitHub Enterprise Server) is reached over https; plain http only on this machine, for a stand-in. */
const endpoint = z.url().refine((text) => {
  const url = new URL(text);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return url.protocol === 'https:' || (url.protocol === 'http:' && loopback);
}, 'use an https:// URL (http:// only for localhost)');

const teamMapping = z
  .object({
    organization: z.string().min(1),
    team: z.string().min(1),
    roles: stringList.min(1, 'name at least one role'),
  })
  .strict();

const legacyTeamMapping = z
  .object({
    organization: z.string().min(1),
    team: z.string().min(1),
    /** Role names, despite the name (Teleport's legacy field). */
    logins: stringList.default([]),
    kubernetes_groups: stringList.optional(),
    kubernetes_users: stringList.optional(),
  })
  .strict();

/** The connector's client secret is the deployment's Secrets Manager secret, not one stored with it. */
export const CLIENT_SECRET_FROM_DEPLOYMENT = 'secrets_manager';

export const DEFAULT_GITHUB_ENDPOINT = 'https://github.com';
export const DEFAULT_GITHUB_API_ENDPOINT = 'https://api.github.com';

export const githubConnectorSchema = z
  .object({
    kind: z.literal('github'),
    version: z.literal('v3').default('v3'),
    metadata: z.object({ name: connectorName, description: z.string().optional(), labels: z.record(z.string(), z.string()).optional() }),
    spec: z
      .object({
        client_id: z.string().min(1),
        // Optional here: an update (tctl create --force) that leaves it out keeps the stored one,
        // since tctl get never prints it. A new connector must have one (checked where it is stored).
        client_secret: z.string().min(1).optional(),
        /**
         * Where the secret comes from instead: `secrets_manager` is the deployment's Secrets Manager
         * secret (githubClientSecretName), read by the auth function and never stored here.
         */
        client_secret_source: z.literal(CLIENT_SECRET_FROM_DEPLOYMENT).optional(),
        redirect_url: z.url(),
        display: z.string().optional(),
        teams_to_roles: z.array(teamMapping).default([]),
        // tctl sso configure writes null and "" for these; Teleport reads them as unset.
        teams_to_logins: z.array(legacyTeamMapping).nullable().optional(),
        endpoint_url: z.union([z.literal(''), endpoint]).optional(),
        api_endpoint_url: z.union([z.literal(''), endpoint]).optional(),
        client_redirect_settings: z
          .object({
            allowed_https_hostnames: stringList.optional(),
            insecure_allowed_cidr_ranges: stringList.optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .refine((spec) => spec.teams_to_roles.length > 0 || (spec.teams_to_logins ?? []).length > 0, {
        message: 'map at least one team: add teams_to_roles [{organization, team, roles}]',
        path: ['teams_to_roles'],
      })
      .refine((spec) => spec.client_secret === undefined || spec.client_secret_source === undefined, {
        message: `a connector's secret comes from one place: give client_secret, or client_secret_source: ${CLIENT_SECRET_FROM_DEPLOYMENT} (the deployment's secret), not both`,
        path: ['client_secret_source'],
      }),
  })
  .strict();
export type GitHubConnector = z.infer<typeof githubConnectorSchema>;

/**
 * How a connector is stored: the secret sealed (SecretBox), never in the clear; a connector whose
 * secret comes from the deployment (client_secret_source) stores none.
 */
export type StoredGitHubConnector = GitHubConnector & {
  spec: GitHubConnector['spec'] & { client_secret_sealed?: string };
};

export interface GitHubTeam {
  /** The organization's login, e.g. "acme". */
  organization: string;
  /** The team's slug, e.g. "platform-admins". */
  slug: string;
  name: string;
}

export interface TeamClaims {
  roles: string[];
  traits: {
    github_teams: string[];
    logins: string[];
    kubernetes_groups: string[];
    kubernetes_users: string[];
  };
}

/** The deployment's own GitHub OAuth app: the one whose client secret the deployment holds. */
export interface DeploymentGitHubApp {
  /** The OAuth app's client ID (githubClientId); undefined when the deployment has no GitHub app. */
  clientId: string | undefined;
  /** github.com unless the deployment itself says otherwise. */
  endpointUrl: string;
  apiEndpointUrl: string;
}

export const GITHUB_COM: Pick<DeploymentGitHubApp, 'endpointUrl' | 'apiEndpointUrl'> = {
  endpointUrl: DEFAULT_GITHUB_ENDPOINT,
  apiEndpointUrl: DEFAULT_GITHUB_API_ENDPOINT,
};

const trimmed = (url: string) => url.replace(/\/+$/, '');

/**
 * Why `connector` may not use the deployment's client secret, or undefined when it may. The
 * deployment's secret belongs to one OAuth app at one GitHub: a connector that names another
 * client ID or another GitHub would hand that secret (and its users' tokens) to whoever runs the
 * endpoint, so only the deployment's client ID and the deployment's GitHub are allowed.
 */
export function deploymentSecretRefusal(connector: GitHubConnector, deployment: DeploymentGitHubApp): string | undefined {
  if (connector.spec.client_secret_source !== CLIENT_SECRET_FROM_DEPLOYMENT) return undefined;
  const name = connector.metadata.name;
  const own = `give the connector its own client_secret instead of client_secret_source: ${CLIENT_SECRET_FROM_DEPLOYMENT}`;
  if (deployment.clientId === undefined)
    return `github ${name}: spec.client_secret_source: this deployment has no GitHub OAuth app (githubClientId), so there is no deployment secret to use; ${own}`;
  if (connector.spec.client_id !== deployment.clientId)
    return `github ${name}: spec.client_id must be the deployment's OAuth app (${deployment.clientId}) to use its secret (client_secret_source: ${CLIENT_SECRET_FROM_DEPLOYMENT}); set client_id: ${deployment.clientId}, or ${own}`;
  for (const [field, url, expected] of [
    ['endpoint_url', connector.spec.endpoint_url, deployment.endpointUrl],
    ['api_endpoint_url', connector.spec.api_endpoint_url, deployment.apiEndpointUrl],
  ] as const) {
    if (url && trimmed(url) !== trimmed(expected))
      return `github ${name}: spec.${field} must be left out (the deployment's GitHub, ${trimmed(expected)}) to use the deployment's secret (client_secret_source: ${CLIENT_SECRET_FROM_DEPLOYMENT}); remove ${field}, or ${own}`;
  }
  return undefined;
}

export function connectorEndpoints(connector: GitHubConnector): { endpointUrl: string; apiEndpointUrl: string } {
  return {
    endpointUrl: (connector.spec.endpoint_url || DEFAULT_GITHUB_ENDPOINT).replace(/\/+$/, ''),
    apiEndpointUrl: (connector.spec.api_endpoint_url || DEFAULT_GITHUB_API_ENDPOINT).replace(/\/+$/, ''),
  };
}

/**
 * Roles and traits for a user in `teams`: exact match of organization login and team slug, as
 * Teleport does (no globs). `logins` holds the GitHub login, as Teleport's trait does.
 */
export function mapTeams(connector: GitHubConnector, githubLogin: string, teams: GitHubTeam[]): TeamClaims {
  const member = (organization: string, team: string) => teams.some((t) => t.organization === organization && t.slug === team);
  const roles = new Set<string>();
  const groups = new Set<string>();
  const users = new Set<string>();
  for (const mapping of connector.spec.teams_to_roles) {
    if (member(mapping.organization, mapping.team)) mapping.roles.forEach((role) => roles.add(role));
  }
  for (const mapping of connector.spec.teams_to_logins ?? []) {
    if (!member(mapping.organization, mapping.team)) continue;
    mapping.logins.forEach((role) => roles.add(role));
    mapping.kubernetes_groups?.forEach((group) => groups.add(group));
    mapping.kubernetes_users?.forEach((user) => users.add(user));
  }
  return {
    roles: [...roles],
    traits: {
      github_teams: [...new Set(teams.map((t) => `${t.organization}/${t.slug}`))],
      logins: [githubLogin],
      kubernetes_groups: [...groups],
      kubernetes_users: [...users],
    },
  };
}
