// The agent on Fargate: one ECS cluster and service, 0.25 vCPU / 0.5 GB, a public IP and no NAT
// gateway. economy: one task, no load balancer; it publishes its own address in Route 53 at start.
// ha: two tasks across zones behind an internet-facing NLB (TCP passthrough, so the agent sees the
// client certificate; client IP preserved; idle timeout an hour, well above kubectl's stream pings).
// The container runs as `node` on 443 (the task lets unprivileged processes bind it) on a
// read-only root file system, with one writable volume for the audit spool.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { AGENT_SPOOL_DIR } from './agent-container-environment.js';
import { agentCpuArchitecture, agentImage } from './agent-image.js';
import { AGENT_PORT, type AgentNetwork } from './agent-network.js';
import type { AgentContext } from './stack-context.js';

/** 0.25 vCPU / 0.5 GB: the smallest Fargate size; the agent relays bytes and signs nothing per request. */
export const AGENT_CPU_UNITS = 256;
export const AGENT_MEMORY_MIB = 512;
/** The NLB's TCP idle timeout: exec and watch streams idle between kubectl's pings stay open (350 s by default). */
export const AGENT_IDLE_TIMEOUT_SECONDS = 3600;
const CONTAINER_NAME = 'agent';
/** The agent's health route (agent/health.ts, which infra may not import; a test compares them). */
export const AGENT_HEALTH_PATH = '/healthz';

/** Node itself checks /healthz (no curl or wget in the image); the certificate is the agent's own, so not verified here. */
const HEALTH_CHECK_SCRIPT = `require('https').get({host:'127.0.0.1',port:${AGENT_PORT},path:'${AGENT_HEALTH_PATH}',rejectUnauthorized:false,timeout:4000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))`;

export interface AgentServiceProps {
  readonly agent: AgentContext;
  readonly network: AgentNetwork;
  readonly taskRole: iam.IRole;
  readonly environment: Record<string, string>;
  readonly logRetention?: logs.RetentionDays;
  readonly removalPolicy?: RemovalPolicy;
}

export class AgentService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly service: ecs.FargateService;
  readonly logGroup: logs.LogGroup;
  readonly loadBalancer?: elbv2.NetworkLoadBalancer;
  readonly listener?: elbv2.NetworkListener;
  /** Where tsh reaches the agent: the Route 53 name when given, else the NLB's DNS name. */
  readonly hostName: string;
  /** The names the agent's certificate carries. */
  readonly hostNames: string[];

  constructor(scope: Construct, id: string, props: AgentServiceProps) {
    super(scope, id);
    const { agent, network } = props;
    const ha = agent.topology === 'ha';

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: network.vpc,
      // Container Insights bills metrics per task every month; the service's own CPU and memory metrics are free.
      containerInsightsV2: ecs.ContainerInsights.DISABLED,
      enableFargateCapacityProviders: agent.capacity === 'spot',
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: AGENT_CPU_UNITS,
      memoryLimitMiB: AGENT_MEMORY_MIB,
      runtimePlatform: { cpuArchitecture: agentCpuArchitecture(agent.capacity), operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      taskRole: props.taskRole,
      // Part of the task's ephemeral storage (Fargate cannot size a bind mount); the image makes it node's.
      volumes: [{ name: 'spool' }],
    });
    const container = this.taskDefinition.addContainer('Agent', {
      containerName: CONTAINER_NAME,
      image: agentImage(agent.capacity),
      user: 'node',
      readonlyRootFilesystem: true,
      environment: props.environment,
      portMappings: [{ containerPort: AGENT_PORT, protocol: ecs.Protocol.TCP }],
      // Lets the non-root user bind 443 inside the task's own network namespace (awsvpc).
      systemControls: [{ namespace: 'net.ipv4.ip_unprivileged_port_start', value: String(AGENT_PORT) }],
      healthCheck: {
        command: ['CMD', 'node', '-e', HEALTH_CHECK_SCRIPT],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(60),
      },
      // Draining lets open exec sessions finish; Fargate allows two minutes at most.
      stopTimeout: Duration.seconds(120),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'agent', logGroup: this.logGroup }),
    });
    container.addMountPoints({ sourceVolume: 'spool', containerPath: AGENT_SPOOL_DIR, readOnly: false });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: ha ? 2 : 1,
      assignPublicIp: true,
      vpcSubnets: network.subnets,
      securityGroups: [network.securityGroup],
      ...(agent.capacity === 'spot'
        ? { capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }
        : { platformVersion: ecs.FargatePlatformVersion.LATEST }),
      // A new task starts before the old one stops, so a deploy keeps one serving.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
    });

    if (ha) {
      const { loadBalancer, listener } = this.addLoadBalancer(props);
      this.loadBalancer = loadBalancer;
      this.listener = listener;
      if (agent.hostedZoneId !== undefined && agent.domainName !== undefined) {
        new route53.CfnRecordSet(this, 'AliasRecord', {
          hostedZoneId: agent.hostedZoneId,
          name: `${agent.domainName}.`,
          type: 'A',
          aliasTarget: {
            dnsName: loadBalancer.loadBalancerDnsName,
            hostedZoneId: loadBalancer.loadBalancerCanonicalHostedZoneId,
            evaluateTargetHealth: true,
          },
        });
      }
      this.hostName = agent.domainName ?? loadBalancer.loadBalancerDnsName;
      this.hostNames = [...(agent.domainName !== undefined ? [agent.domainName] : []), loadBalancer.loadBalancerDnsName];
    } else {
      // The context check makes economy carry a domain name.
      const domainName = agent.domainName ?? '';
      this.hostName = domainName;
      this.hostNames = [domainName];
    }
  }

  private addLoadBalancer({ agent, network }: AgentServiceProps) {
    const loadBalancerGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: network.vpc,
      description: 'Kubeport agent NLB: kubectl in on 443, to the agent tasks on 443',
      allowAllOutbound: false,
    });
    for (const cidr of agent.ingressCidrs) {
      loadBalancerGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(AGENT_PORT), `kubectl through tsh from ${cidr}`);
    }
    loadBalancerGroup.addEgressRule(network.securityGroup, ec2.Port.tcp(AGENT_PORT), 'to the agent tasks');
    // Health checks come from the NLB's own addresses; client traffic keeps the client's (allowed by CIDR on the agent's group).
    network.securityGroup.addIngressRule(loadBalancerGroup, ec2.Port.tcp(AGENT_PORT), 'from the NLB (health checks)');

    const loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: network.vpc,
      internetFacing: true,
      vpcSubnets: network.subnets,
      securityGroups: [loadBalancerGroup],
      crossZoneEnabled: true,
    });
    const listener = loadBalancer.addListener('Tcp443', {
      port: AGENT_PORT,
      protocol: elbv2.Protocol.TCP,
      tcpIdleTimeout: Duration.seconds(AGENT_IDLE_TIMEOUT_SECONDS),
    });
    listener.addTargets('Agents', {
      port: AGENT_PORT,
      protocol: elbv2.Protocol.TCP,
      targets: [this.service.loadBalancerTarget({ containerName: CONTAINER_NAME, containerPort: AGENT_PORT })],
      preserveClientIp: true,
      // The agent answers 503 while draining; open streams continue until the task stops.
      deregistrationDelay: Duration.seconds(60),
      healthCheck: {
        protocol: elbv2.Protocol.HTTPS,
        path: AGENT_HEALTH_PATH,
        interval: Duration.seconds(10),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });
    return { loadBalancer, listener };
  }
}
