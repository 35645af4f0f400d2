// Where the agent runs and who may talk to it. In the clusters' VPC when given (imported by id,
// offline: no lookup, so `cdk synth` needs no account), else a new VPC with public subnets only.
// Either way no NAT gateway: the task has a public IP and reaches AWS APIs over the internet
// gateway. A new VPC also gets the free gateway endpoints for S3 and DynamoDB; an imported one
// gets none, as its route tables are unknown without a lookup (the README says so).
import { Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { AgentVpcContext } from './stack-context.js';

export const AGENT_PORT = 443;

export interface AgentNetworkProps {
  /** The clusters' VPC and public subnets; absent: a new VPC. */
  readonly vpc?: AgentVpcContext;
  /** Who may connect on 443. */
  readonly ingressCidrs: readonly string[];
  /** The clusters' security groups: the agent may reach each on 443, and each is opened to the agent on 443. */
  readonly clusterSecurityGroupIds: readonly string[];
}

export class AgentNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The agent tasks' group. */
  readonly securityGroup: ec2.SecurityGroup;
  /** True when the stack created the VPC. */
  readonly createdVpc: boolean;

  constructor(scope: Construct, id: string, props: AgentNetworkProps) {
    super(scope, id);
    this.createdVpc = props.vpc === undefined;
    if (props.vpc) {
      const { vpcId, publicSubnetIds } = props.vpc;
      // Each subnet's zone is not known offline; a token stands in (nothing here reads it).
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId,
        availabilityZones: publicSubnetIds.map((_, index) => Fn.select(index, Fn.getAzs())),
        publicSubnetIds,
      });
    } else {
      this.vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
        gatewayEndpoints: {
          S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
          DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        },
        // CDK's custom resource that strips the default group's rules would add a Lambda; nothing uses that group.
        restrictDefaultSecurityGroup: false,
      });
    }
    this.subnets = { subnetType: ec2.SubnetType.PUBLIC };

    this.securityGroup = new ec2.SecurityGroup(this, 'AgentSecurityGroup', {
      vpc: this.vpc,
      description: 'Kubeport agent: kubectl in on 443; out to the EKS API servers and AWS APIs on 443',
      allowAllOutbound: false,
    });
    for (const cidr of props.ingressCidrs) {
      this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(AGENT_PORT), `kubectl through tsh from ${cidr}`);
    }
    props.clusterSecurityGroupIds.forEach((groupId, index) => {
      this.securityGroup.addEgressRule(ec2.Peer.securityGroupId(groupId), ec2.Port.tcp(AGENT_PORT), `EKS API server (${groupId})`);
      // The cluster's group is not the stack's: one rule on it lets the agent's group in, and goes with the stack.
      new ec2.CfnSecurityGroupIngress(this, `ClusterIngress${index}`, {
        groupId,
        ipProtocol: 'tcp',
        fromPort: AGENT_PORT,
        toPort: AGENT_PORT,
        sourceSecurityGroupId: this.securityGroup.securityGroupId,
        description: 'Kubeport agent to the EKS API server',
      });
    });
    // STS, EKS, DynamoDB, S3, Route 53, the control plane's API and checkip: all HTTPS, no NAT gateway.
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(AGENT_PORT), 'AWS APIs and the control plane over HTTPS');
  }
}
