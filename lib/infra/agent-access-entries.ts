// One EKS access entry per listed cluster: the task role is known inside the cluster as a member
// of the impersonator group, and nothing else (no access policy). What that group may do comes
// from the ClusterRole that `tctl kube bootstrap NAME | kubectl apply -f -` creates. The L1
// resource takes a cluster name, so the stack adds entries to clusters it does not own; each
// cluster must use authentication mode API or API_AND_CONFIG_MAP.
import * as eks from 'aws-cdk-lib/aws-eks';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { IMPERSONATOR_GROUP } from '../core/eks-access.js';

export interface AgentAccessEntriesProps {
  readonly clusters: readonly string[];
  readonly role: iam.IRole;
}

export class AgentAccessEntries extends Construct {
  readonly entries: eks.CfnAccessEntry[];

  constructor(scope: Construct, id: string, props: AgentAccessEntriesProps) {
    super(scope, id);
    this.entries = props.clusters.map(
      (clusterName) =>
        new eks.CfnAccessEntry(this, `Cluster-${clusterName}`, {
          clusterName,
          principalArn: props.role.roleArn,
          type: 'STANDARD',
          kubernetesGroups: [IMPERSONATOR_GROUP],
        }),
    );
  }
}
