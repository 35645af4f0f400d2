// What the CA bootstrap custom resource does at each deploy (Create and Update): the CAs that do
// not exist yet are created from the deployment's KMS keys (an existing CA is never replaced), and
// the deployment's GitHub connector is written unless an admin owns it (deployment-connector.ts).
import { type DeploymentGitHubSettings, deploymentConnector, deploymentGitHubSettings } from '../core/deployment-connector.js';
import type { CaType } from '../core/certificate-authority.js';
import type { AuditLog } from '../core/ports.js';
import { type CaStoreDeps, ensureCertAuthorities } from './cert-authorities.js';
import { applyDeploymentConnector } from './deployment-connector.js';

export interface BootstrapDeps extends CaStoreDeps {
  audit: AuditLog;
}

export interface BootstrapConfig {
  clusterName: string;
  /** The KMS keys the stack made for the first user and host CAs. */
  initialKeys: Record<CaType, string>;
}

/** Data for CloudFormation: which CAs this deploy created, and what became of the connector. */
export async function bootstrapDeployment(
  deps: BootstrapDeps,
  config: BootstrapConfig,
  properties: Record<string, unknown>,
  oldProperties?: Record<string, unknown>,
): Promise<Record<string, string>> {
  // Bad settings fail the deploy before anything is written.
  const settings = deploymentGitHubSettings(properties);
  const { created } = await ensureCertAuthorities(deps, config.initialKeys, config.clusterName);
  const connector = settings
    ? await applyDeploymentConnector(deps, deploymentConnector(settings), previousConnector(oldProperties))
    : 'none';
  return { CreatedCertAuthorities: created.join(','), GitHubConnector: connector };
}

/** What the previous deployment asked for; settings it could not have applied count as none. */
function previousConnector(oldProperties: Record<string, unknown> | undefined) {
  if (oldProperties === undefined) return undefined;
  let settings: DeploymentGitHubSettings | undefined;
  try {
    settings = deploymentGitHubSettings(oldProperties);
  } catch {
    return undefined;
  }
  return settings && deploymentConnector(settings);
}
