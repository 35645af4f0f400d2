// GitHub connectors as the login needs them: the default one, the OAuth app with its secret
// opened, and the sealing of the secret when an admin stores a connector.
import { GitHubClientRefusedError, KubeportError, badRequest, notFound } from '../core/errors.js';
import {
  CLIENT_SECRET_FROM_DEPLOYMENT,
  type DeploymentGitHubApp,
  GITHUB_COM,
  type GitHubConnector,
  type StoredGitHubConnector,
  connectorEndpoints,
  deploymentSecretRefusal,
} from '../core/github-connector.js';
import type { DeploymentSecret, GitHubOAuthApp, ResourceStore, SecretBox } from '../core/ports.js';
import type { ServiceDeps } from './deps.js';

type DeploymentAppDeps = Pick<ServiceDeps, 'githubClientId' | 'githubEndpoints'>;

interface ConnectorDeps extends DeploymentAppDeps {
  resources: ResourceStore;
  secrets: SecretBox;
  githubClientSecret?: DeploymentSecret | undefined;
}

/** The OAuth app whose secret the deployment holds, and the GitHub it belongs to. */
export function deploymentGitHubApp(deps: DeploymentAppDeps): DeploymentGitHubApp {
  return { clientId: deps.githubClientId, ...(deps.githubEndpoints ?? GITHUB_COM) };
}

export interface LoadedConnector {
  connector: StoredGitHubConnector;
  app: GitHubOAuthApp;
}

export async function listConnectors(resources: ResourceStore): Promise<StoredGitHubConnector[]> {
  const stored = (await resources.list<StoredGitHubConnector>('github')).map((r) => r.body);
  return stored.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** The connector tsh uses without --auth: the one named "github", else the first by name. */
export function defaultConnector(connectors: StoredGitHubConnector[]): StoredGitHubConnector | undefined {
  return connectors.find((c) => c.metadata.name === 'github') ?? connectors[0];
}

export async function loadConnector(deps: ConnectorDeps, name?: string): Promise<LoadedConnector> {
  // A named connector is one read; only the default needs the list.
  const connector =
    name === undefined
      ? defaultConnector(await listConnectors(deps.resources))
      : (await deps.resources.get<StoredGitHubConnector>('github', name))?.body;
  if (!connector) {
    const known = (await listConnectors(deps.resources)).map((c) => c.metadata.name);
    throw notFound(
      known.length === 0
        ? 'no GitHub connector is configured; an admin adds one with tctl create -f github.yaml'
        : `no GitHub connector named ${name}; use one of: ${known.join(', ')}`,
    );
  }
  const clientSecret = await connectorSecret(deps, connector, 'kept');
  // The deployment's secret goes to the deployment's GitHub only, whatever the connector says.
  const endpoints =
    connector.spec.client_secret_source === CLIENT_SECRET_FROM_DEPLOYMENT ? deploymentEndpoints(deps) : connectorEndpoints(connector);
  return { connector, app: { ...endpoints, clientId: connector.spec.client_id, clientSecret } };
}

function deploymentEndpoints(deps: DeploymentAppDeps): { endpointUrl: string; apiEndpointUrl: string } {
  const { endpointUrl, apiEndpointUrl } = deploymentGitHubApp(deps);
  return { endpointUrl: endpointUrl.replace(/\/+$/, ''), apiEndpointUrl: apiEndpointUrl.replace(/\/+$/, '') };
}

/**
 * Calls GitHub with the connector's OAuth app. When GitHub refuses the client credentials and the
 * secret is the deployment's, it was probably just rotated: the secret is read afresh and the call
 * made once more, so a rotation works at once, with no redeploy or cold start.
 */
export async function withOAuthApp<T>(deps: ConnectorDeps, loaded: LoadedConnector, call: (app: GitHubOAuthApp) => Promise<T>): Promise<T> {
  try {
    return await call(loaded.app);
  } catch (error) {
    if (!(error instanceof GitHubClientRefusedError) || loaded.connector.spec.client_secret_source !== CLIENT_SECRET_FROM_DEPLOYMENT)
      throw error;
    const clientSecret = await connectorSecret(deps, loaded.connector, 'fresh');
    if (clientSecret === loaded.app.clientSecret) throw error;
    return call({ ...loaded.app, clientSecret });
  }
}

async function connectorSecret(deps: ConnectorDeps, connector: StoredGitHubConnector, read: 'kept' | 'fresh'): Promise<string> {
  const name = connector.metadata.name;
  if (connector.spec.client_secret_source === CLIENT_SECRET_FROM_DEPLOYMENT) {
    // Checked again at each use, not only when stored: a connector written before this rule, or
    // straight into the table, must not get the secret either.
    const refusal = deploymentSecretRefusal(connector, deploymentGitHubApp(deps));
    if (refusal !== undefined) throw new KubeportError('invalid_config', `${refusal} (tctl create --force)`);
    if (!deps.githubClientSecret) {
      throw new KubeportError(
        'invalid_config',
        `github ${name} takes its client secret from the deployment, and this deployment has none; set githubClientSecretName and deploy again, or give the connector its secret (tctl create --force with spec.client_secret)`,
      );
    }
    return read === 'kept' ? deps.githubClientSecret.value() : deps.githubClientSecret.refresh();
  }
  const sealed = connector.spec.client_secret_sealed;
  if (sealed === undefined) {
    throw new KubeportError(
      'invalid_config',
      `github ${name} has no client secret; an admin gives it one (tctl create --force with spec.client_secret)`,
    );
  }
  return deps.secrets.open(sealed);
}

/**
 * The connector as it is stored: the secret sealed, never in the clear. An update without a
 * secret keeps the stored one (tctl get never shows it, so a round trip cannot carry it).
 */
export async function sealConnectorSecret(
  deps: DeploymentAppDeps & { secrets: SecretBox },
  connector: GitHubConnector,
  existing: StoredGitHubConnector | undefined,
): Promise<StoredGitHubConnector> {
  const { client_secret: clientSecret, ...spec } = connector.spec;
  const secrets = deps.secrets;
  // The deployment's secret is read where it is used; nothing of it is stored.
  if (spec.client_secret_source === CLIENT_SECRET_FROM_DEPLOYMENT) {
    const refusal = deploymentSecretRefusal(connector, deploymentGitHubApp(deps));
    if (refusal !== undefined) throw badRequest(refusal);
    return { ...connector, spec };
  }
  if (clientSecret !== undefined) return { ...connector, spec: { ...spec, client_secret_sealed: await secrets.seal(clientSecret) } };
  const kept = existing?.spec.client_secret_sealed;
  if (kept !== undefined) return { ...connector, spec: { ...spec, client_secret_sealed: kept } };
  throw badRequest(
    `github ${connector.metadata.name}: spec.client_secret is required (the OAuth app's client secret), or client_secret_source: ${CLIENT_SECRET_FROM_DEPLOYMENT} for the deployment's secret`,
  );
}
