// GitHub connectors as the login needs them: the default one, the OAuth app with its secret
// opened, and the sealing of the secret when an admin stores a connector.
import { badRequest, notFound } from '../core/errors.js';
import { type GitHubConnector, type StoredGitHubConnector, connectorEndpoints } from '../core/github-connector.js';
import type { GitHubOAuthApp, ResourceStore, SecretBox } from '../core/ports.js';

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

export async function loadConnector(deps: { resources: ResourceStore; secrets: SecretBox }, name?: string): Promise<LoadedConnector> {
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
  const clientSecret = await deps.secrets.open(connector.spec.client_secret_sealed);
  return { connector, app: { ...connectorEndpoints(connector), clientId: connector.spec.client_id, clientSecret } };
}

/**
 * The connector as it is stored: the secret sealed, never in the clear. An update without a
 * secret keeps the stored one (tctl get never shows it, so a round trip cannot carry it).
 */
export async function sealConnectorSecret(
  secrets: SecretBox,
  connector: GitHubConnector,
  existing: StoredGitHubConnector | undefined,
): Promise<StoredGitHubConnector> {
  const { client_secret: clientSecret, ...spec } = connector.spec;
  if (clientSecret !== undefined) return { ...connector, spec: { ...spec, client_secret_sealed: await secrets.seal(clientSecret) } };
  if (existing) return { ...connector, spec: { ...spec, client_secret_sealed: existing.spec.client_secret_sealed } };
  throw badRequest(`github ${connector.metadata.name}: spec.client_secret is required for a new connector (the OAuth app's client secret)`);
}
