// The agent container's environment, per the agent's own schema (lib/app/agent-environment.ts,
// which infra may not import: test/infra/agent-stack.test.ts parses the template's variables with it).
import type { AgentContext } from './stack-context.js';
import { AGENT_PORT } from './agent-network.js';

/** Where interrupted audit writes wait: the task's own volume (the root file system is read-only). */
export const AGENT_SPOOL_DIR = '/var/spool/kubeport';

export interface AgentContainerEnvironmentProps {
  readonly agent: AgentContext;
  readonly region: string;
  readonly clusterName: string;
  readonly apiUrl: string;
  readonly resourcesTable: string;
  readonly auditTable: string;
  readonly auditBucket: string;
  readonly recordingsBucket: string;
}

export function agentContainerEnvironment(props: AgentContainerEnvironmentProps): Record<string, string> {
  const { agent } = props;
  const variables: Record<string, string | undefined> = {
    AWS_REGION: props.region,
    KUBEPORT_CLUSTER_NAME: props.clusterName,
    KUBEPORT_API_URL: props.apiUrl,
    KUBEPORT_RESOURCES_TABLE: props.resourcesTable,
    KUBEPORT_AUDIT_TABLE: props.auditTable,
    KUBEPORT_AUDIT_BUCKET: props.auditBucket,
    KUBEPORT_RECORDINGS_BUCKET: props.recordingsBucket,
    KUBEPORT_AGENT_PORT: String(AGENT_PORT),
    KUBEPORT_AGENT_HOST: '0.0.0.0',
    KUBEPORT_EKS_CLUSTERS: agent.clusters.join(','),
    KUBEPORT_DISCOVERY_TAG: agent.discoveryTag ?? '',
    KUBEPORT_SPOOL_DIR: AGENT_SPOOL_DIR,
    // economy: the task publishes its own public IPv4 under this name at start.
    ...(agent.topology === 'economy' && agent.hostedZoneId !== undefined && agent.domainName !== undefined
      ? { KUBEPORT_HOSTED_ZONE_ID: agent.hostedZoneId, KUBEPORT_AGENT_DOMAIN_NAME: agent.domainName }
      : {}),
  };
  return Object.fromEntries(Object.entries(variables).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
