// The agent's identity: the ECS task role. EKS maps it to the impersonator group (access
// entries), the host-cert route trusts it (SigV4), and it may do only what the agent does: describe
// its clusters, read the resource table's user, role, lock, CA and cluster partitions, write its own cluster records there, write audit events
// and recordings, get its host certificate (granted by ControlPlaneApi.grantAgentHostCert) and, in
// the economy topology, publish its own address.
// Never the CA keys: the agent signs nothing with KMS (the host CA certificate comes from the route).
import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CERT_AUTHORITY_KIND } from '../core/cert-authority-resource.js';
import { KUBE_CLUSTER_STATUS_KIND } from '../core/kube-cluster-health.js';
import type { Storage } from './storage.js';

/** The resource-table partitions (kinds) the agent writes: registered and discovered clusters, and their health. */
export const AGENT_WRITTEN_KINDS = ['kube_cluster', KUBE_CLUSTER_STATUS_KIND] as const;
/**
 * The partitions the agent reads: who a certificate names (users, roles, locks, the CAs that
 * signed it) and its clusters. Never local credentials, invites or GitHub records: the agent
 * faces the internet, and a password hash or a sealed TOTP seed is no business of its.
 */
export const AGENT_READ_KINDS = ['role', 'user', 'lock', CERT_AUTHORITY_KIND, ...AGENT_WRITTEN_KINDS] as const;
/** Key prefixes the agent writes in each bucket (lib/adapters/aws/s3-recording-store.ts, s3-audit-archive.ts). */
export const RECORDINGS_PREFIX = 'sessions/';
export const AUDIT_ARCHIVE_PREFIX = 'events/';

export interface AgentTaskRoleProps {
  readonly storage: Storage;
  /** EKS cluster names in the stack's region. */
  readonly clusters: readonly string[];
  /** Discovery on: the agent lists the region's clusters. */
  readonly discovery: boolean;
  /** Roles in other accounts named by kube_cluster eks sources. */
  readonly assumeRoleArns?: readonly string[];
  /** economy: the record the task publishes its public IPv4 under. */
  readonly addressRecord?: { readonly hostedZoneId: string; readonly domainName: string };
}

export class AgentTaskRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AgentTaskRoleProps) {
    super(scope, id);
    const { storage } = props;
    this.role = new iam.Role(this, 'Role', {
      description: 'Kubeport agent (ECS task): EKS impersonator through access entries',
      // Only tasks of this account may take the role (confused deputy).
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      }),
    });
    const allow = (sid: string, actions: string[], resources: string[], conditions?: Record<string, Record<string, unknown>>) =>
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) }));

    const clusterArn = (name: string) => Stack.of(this).formatArn({ service: 'eks', resource: 'cluster', resourceName: name });
    allow(
      'DescribeClusters',
      ['eks:DescribeCluster'],
      props.clusters.map((name) => clusterArn(name)),
    );
    if (props.discovery) {
      // ListClusters has no resource-level permission (IAM allows only "*"); it is held to the
      // stack's region. Discovered clusters are described by name, any in this account and region.
      allow('ListClustersForDiscovery', ['eks:ListClusters'], ['*'], { StringEquals: { 'aws:RequestedRegion': Aws.REGION } });
      allow('DescribeDiscoveredClusters', ['eks:DescribeCluster'], [clusterArn('*')]);
    }

    if (props.assumeRoleArns && props.assumeRoleArns.length > 0) {
      // Clusters in other accounts: their role's own trust policy must name this role too.
      allow('AssumeClusterAccountRoles', ['sts:AssumeRole'], [...props.assumeRoleArns]);
    }

    allow('ReadResources', ['dynamodb:GetItem', 'dynamodb:Query'], [storage.resources.tableArn], {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...AGENT_READ_KINDS] },
    });
    // The table's partition key is the kind, so LeadingKeys holds writes to the agent's own kinds.
    allow('WriteOwnClusterRecords', ['dynamodb:PutItem', 'dynamodb:DeleteItem'], [storage.resources.tableArn], {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...AGENT_WRITTEN_KINDS] },
    });
    allow('WriteAudit', ['dynamodb:PutItem', 'dynamodb:BatchWriteItem'], [storage.audit.tableArn]);
    allow(
      'WriteRecordingsAndArchive',
      ['s3:PutObject'],
      [storage.recordingsBucket.arnForObjects(`${RECORDINGS_PREFIX}*`), storage.auditBucket.arnForObjects(`${AUDIT_ARCHIVE_PREFIX}*`)],
    );

    if (props.addressRecord) {
      const { hostedZoneId, domainName } = props.addressRecord;
      allow(
        'PublishOwnAddress',
        ['route53:ChangeResourceRecordSets'],
        [Stack.of(this).formatArn({ service: 'route53', region: '', account: '', resource: 'hostedzone', resourceName: hostedZoneId })],
        {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [domainName.toLowerCase()],
            'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
            'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
          },
        },
      );
    }
  }
}
