// What the CA bootstrap custom resource does at each deploy (Create and Update): the CAs that do
// not exist yet are created from the deployment's KMS keys (an existing CA is never replaced), and
// the deployment's GitHub connector is written unless an admin owns it (deployment-connector.ts).
// Everything comes from the function's own configuration, set by the stack; the CloudFormation
// event only says when to run.
import { type DeploymentGitHubSettings, deploymentConnector } from '../core/deployment-connector.js';
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
  /** The deployment's GitHub app and admin teams; undefined: no deploy-time connector. */
  github: DeploymentGitHubSettings | undefined;
}

/** Data for CloudFormation: which CAs this deploy created, and what became of the connector. */
export async function bootstrapDeployment(deps: BootstrapDeps, config: BootstrapConfig): Promise<Record<string, string>> {
  const { created } = await ensureCertAuthorities(deps, config.initialKeys, config.clusterName);
  const connector = config.github ? await applyDeploymentConnector(deps, deploymentConnector(config.github)) : 'none';
  return { CreatedCertAuthorities: created.join(','), GitHubConnector: connector };
}
