// The agent's part of the stack, put together: its network, its task role and the clusters'
// access entries for it, and the Fargate service. The stack grants the role the host-cert route
// (ControlPlaneApi.grantAgentHostCert). What the control plane must know of it (the
// address ping reports, the role and names the host-cert route issues for) comes out as fields.
import { Aws, type RemovalPolicy } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AgentAccessEntries } from './agent-access-entries.js';
import { agentContainerEnvironment } from './agent-container-environment.js';
import { AGENT_PORT, AgentNetwork } from './agent-network.js';
import { AgentService } from './agent-service.js';
import { AgentTaskRole } from './agent-task-role.js';
import type { AgentContext } from './stack-context.js';
import type { Storage } from './storage.js';

export interface KubeportAgentProps {
  readonly agent: AgentContext;
  readonly storage: Storage;
  readonly clusterName: string;
  readonly apiUrl: string;
  readonly logRetention?: logs.RetentionDays;
  readonly removalPolicy?: RemovalPolicy;
}

export class KubeportAgent extends Construct {
  readonly network: AgentNetwork;
  readonly taskRole: AgentTaskRole;
  readonly accessEntries: AgentAccessEntries;
  readonly service: AgentService;
  /** `host:443`, as ping reports it to tsh. */
  readonly address: string;

  constructor(scope: Construct, id: string, props: KubeportAgentProps) {
    super(scope, id);
    const { agent, storage } = props;
    this.network = new AgentNetwork(this, 'Network', {
      ...(agent.vpc ? { vpc: agent.vpc } : {}),
      ingressCidrs: agent.ingressCidrs,
      clusterSecurityGroupIds: agent.clusterSecurityGroupIds,
    });
    const publishesAddress = agent.topology === 'economy' && agent.hostedZoneId !== undefined && agent.domainName !== undefined;
    this.taskRole = new AgentTaskRole(this, 'TaskRole', {
      storage,
      clusters: agent.clusters,
      discovery: agent.discoveryTag !== undefined,
      assumeRoleArns: agent.assumeRoleArns,
      ...(publishesAddress ? { addressRecord: { hostedZoneId: agent.hostedZoneId!, domainName: agent.domainName! } } : {}),
    });
    this.accessEntries = new AgentAccessEntries(this, 'AccessEntries', { clusters: agent.clusters, role: this.taskRole.role });
    this.service = new AgentService(this, 'Service', {
      agent,
      network: this.network,
      taskRole: this.taskRole.role,
      environment: agentContainerEnvironment({
        agent,
        region: Aws.REGION,
        clusterName: props.clusterName,
        apiUrl: props.apiUrl,
        resourcesTable: storage.resources.tableName,
        auditTable: storage.audit.tableName,
        auditBucket: storage.auditBucket.bucketName,
        recordingsBucket: storage.recordingsBucket.bucketName,
      }),
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    // The task registers its clusters at start; EKS must know its role by then.
    for (const entry of this.accessEntries.entries) this.service.service.node.addDependency(entry);
    // Its permissions must be in place before the first task calls anything.
    this.service.service.node.addDependency(this.taskRole);
    this.address = `${this.service.hostName}:${AGENT_PORT}`;
  }
}
