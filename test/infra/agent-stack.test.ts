// Template assertions on the agent's part of the stack. Two syntheses, shared by every test (asset
// bundling skipped; the agent's image is only fingerprinted at synth, never built):
//   economy: on demand, in the clusters' VPC (imported by id), discovery on, narrowed ingress;
//   ha:      Fargate Spot, a new VPC, an NLB and an alias record.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Aspects, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_PATH } from '../../agent/health.js';
import { agentEnvironmentSchema } from '../../lib/app/agent-environment.js';
import { KUBE_CLUSTER_STATUS_KIND } from '../../lib/core/kube-cluster-health.js';
import { IMPERSONATOR_GROUP } from '../../lib/core/eks-access.js';
import { AGENT_SPOOL_DIR } from '../../lib/infra/agent-container-environment.js';
import { AGENT_HEALTH_PATH, AGENT_IDLE_TIMEOUT_SECONDS } from '../../lib/infra/agent-service.js';
import { KubeportStack } from '../../lib/infra/kubeport-stack.js';
import { StackContextError, parseStackContext } from '../../lib/infra/stack-context.js';
import { synthesizeTemplate } from '../../lib/infra/synthesize-template.js';
import { policyStatements, resourcesOfType, type Statement } from './template-reading.js';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] }>;

interface Synthesized {
  stack: KubeportStack;
  app: App;
  resources: Resources;
  logicalId(construct: { node: { defaultChild?: unknown } }): string;
  taskRoleId: string;
  statements: Statement[];
}

const CLUSTER_SG = 'sg-0123456789abcdef0';
const OTHER_CLUSTER_SG = 'sg-0fedcba9876543210';
const ZONE = 'Z0123456789ABCDEFGHIJ';
const CROSS_ACCOUNT_ROLE = 'arn:aws:iam::210987654321:role/kubeport-eks';

function synthesize(context: Record<string, string>): Synthesized {
  const parsed = parseStackContext((key) => context[key], Object.keys(context));
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new KubeportStack(app, 'Kubeport', { agent: parsed.agent });
  Aspects.of(app).add(new AwsSolutionsChecks());
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const taskRoleId = logicalId(stack.agentDeployment!.taskRole.role);
  return { stack, app, resources, logicalId, taskRoleId, statements: policyStatements(resources, taskRoleId) };
}

let economy: Synthesized;
let ha: Synthesized;

beforeAll(() => {
  economy = synthesize({
    clusters: 'prod,staging',
    vpcId: 'vpc-0123456789abcdef0',
    publicSubnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
    clusterSecurityGroupIds: `${CLUSTER_SG},${OTHER_CLUSTER_SG}`,
    hostedZoneId: ZONE,
    agentDomainName: 'kube.example.com',
    agentIngressCidrs: '203.0.113.0/24,198.51.100.7/32',
    agentDiscoveryTag: 'kubeport=enabled',
    agentAssumeRoleArns: CROSS_ACCOUNT_ROLE,
  });
  ha = synthesize({
    clusters: 'prod',
    agentTopology: 'ha',
    agentCapacity: 'spot',
    hostedZoneId: ZONE,
    agentDomainName: 'kube.example.com',
  });
}, 120_000);

const ofType = (synthesized: Synthesized, type: string) => resourcesOfType(synthesized.resources, type);
const only = (synthesized: Synthesized, type: string) => {
  const found = ofType(synthesized, type);
  expect(found, type).toHaveLength(1);
  return found[0]![1].Properties!;
};
const actions = (statement: Statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);
const containerOf = (synthesized: Synthesized) =>
  (only(synthesized, 'AWS::ECS::TaskDefinition').ContainerDefinitions as Record<string, unknown>[])[0]!;

describe('the agent in the stack', () => {
  it('passes cdk-nag AwsSolutions in both topologies, each suppression with its reason', () => {
    for (const { stack } of [economy, ha]) {
      const findings = [
        ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
        ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ];
      expect(findings.map((finding) => `${finding.id}: ${String(finding.entry.data).slice(0, 120)}`)).toEqual([]);
    }
  });

  it('maps the task role into each listed cluster with an access entry of type STANDARD to the impersonator group only', () => {
    const entries = ofType(economy, 'AWS::EKS::AccessEntry').map(([, entry]) => entry.Properties!);
    expect(entries).toEqual(
      ['prod', 'staging'].map((clusterName) => ({
        ClusterName: clusterName,
        Type: 'STANDARD',
        KubernetesGroups: [IMPERSONATOR_GROUP],
        PrincipalArn: { 'Fn::GetAtt': [economy.taskRoleId, 'Arn'] },
      })),
    );
    // No access policy: what the group may do is the bootstrap ClusterRole's business.
    for (const entry of entries) expect(entry).not.toHaveProperty('AccessPolicies');
    // The task starts only once EKS knows its role.
    const [[serviceId]] = ofType(economy, 'AWS::ECS::Service') as [[string, unknown]];
    for (const [entryId] of ofType(economy, 'AWS::EKS::AccessEntry')) expect(economy.resources[serviceId]!.DependsOn).toContain(entryId);
  });

  it('runs with no NAT gateway: a public IP per task; a new VPC has public subnets only and the free S3 and DynamoDB gateway endpoints', () => {
    for (const synthesized of [economy, ha]) {
      expect(ofType(synthesized, 'AWS::EC2::NatGateway')).toEqual([]);
      expect(ofType(synthesized, 'AWS::EC2::EIP')).toEqual([]);
      const service = only(synthesized, 'AWS::ECS::Service');
      expect(service.NetworkConfiguration).toMatchObject({ AwsvpcConfiguration: { AssignPublicIp: 'ENABLED' } });
    }
    const subnets = ofType(ha, 'AWS::EC2::Subnet').map(([, subnet]) => subnet.Properties!);
    expect(subnets).toHaveLength(2);
    for (const subnet of subnets) expect(subnet.MapPublicIpOnLaunch).toBe(true);
    const endpoints = ofType(ha, 'AWS::EC2::VPCEndpoint').map(([, endpoint]) => endpoint.Properties!);
    expect(endpoints.map((endpoint) => endpoint.VpcEndpointType)).toEqual(['Gateway', 'Gateway']);
    expect(JSON.stringify(endpoints.map((endpoint) => endpoint.ServiceName))).toMatch(/\.s3".*\.dynamodb"/);
    // In the clusters' VPC (imported offline) nothing of the network is created: no VPC, subnets or endpoints.
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::VPCEndpoint', 'AWS::EC2::InternetGateway'])
      expect(ofType(economy, type)).toEqual([]);
    expect(JSON.stringify(only(economy, 'AWS::ECS::Service').NetworkConfiguration)).toContain('subnet-0fedcba9876543210');
  });

  it('runs one ARM64 task of 0.25 vCPU / 0.5 GB on demand as node on 443, read-only, with a spool volume and a health check', () => {
    const task = only(economy, 'AWS::ECS::TaskDefinition');
    expect(task).toMatchObject({
      Cpu: '256',
      Memory: '512',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      TaskRoleArn: { 'Fn::GetAtt': [economy.taskRoleId, 'Arn'] },
    });
    expect(containerOf(economy)).toMatchObject({
      User: 'node',
      ReadonlyRootFilesystem: true,
      PortMappings: [{ ContainerPort: 443, Protocol: 'tcp' }],
      SystemControls: [{ Namespace: 'net.ipv4.ip_unprivileged_port_start', Value: '443' }],
      MountPoints: [{ ContainerPath: AGENT_SPOOL_DIR, ReadOnly: false, SourceVolume: 'spool' }],
      HealthCheck: { Command: ['CMD', 'node', '-e', expect.stringContaining(`path:'${HEALTH_PATH}'`)] },
      LogConfiguration: { LogDriver: 'awslogs' },
    });
    expect(AGENT_HEALTH_PATH).toBe(HEALTH_PATH);
    expect(only(economy, 'AWS::ECS::Service')).toMatchObject({ DesiredCount: 1, LaunchType: 'FARGATE' });
    const logGroups = ofType(economy, 'AWS::Logs::LogGroup').map(([, group]) => group.Properties!);
    for (const group of logGroups) expect(group.RetentionInDays).toBeGreaterThan(0);
  });

  it("stages the agent's image for the task's platform at synth, without building it (no Docker needed)", () => {
    const platformOf = ({ app, stack }: Synthesized) => {
      const manifest = JSON.parse(readFileSync(join(app.synth().directory, `${stack.artifactId}.assets.json`), 'utf8')) as {
        dockerImages: Record<string, { source: { directory: string; dockerFile?: string; platform?: string } }>;
      };
      const images = Object.values(manifest.dockerImages);
      expect(images).toHaveLength(1);
      expect(images[0]!.source.dockerFile).toBe('agent/Dockerfile');
      return images[0]!.source.platform;
    };
    expect(platformOf(economy)).toBe('linux/arm64');
    expect(platformOf(ha)).toBe('linux/amd64');
  });

  it('runs X86_64 tasks on Fargate Spot with agentCapacity=spot (Spot has no ARM64)', () => {
    expect(only(ha, 'AWS::ECS::TaskDefinition').RuntimePlatform).toMatchObject({ CpuArchitecture: 'X86_64' });
    const service = only(ha, 'AWS::ECS::Service');
    expect(service.CapacityProviderStrategy).toEqual([{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }]);
    expect(service).not.toHaveProperty('LaunchType');
    expect(JSON.stringify(only(ha, 'AWS::ECS::ClusterCapacityProviderAssociations'))).toContain('FARGATE_SPOT');
  });

  it("gives the container the agent's whole configuration, every variable valid for the agent's schema", () => {
    const variables = Object.fromEntries(
      (containerOf(economy).Environment as { Name: string; Value: unknown }[]).map(({ Name, Value }) => [
        Name,
        typeof Value === 'string' ? Value : Name === 'KUBEPORT_API_URL' ? 'https://abc.execute-api.eu-west-1.amazonaws.com' : 'resolved',
      ]),
    );
    const known = Object.keys(agentEnvironmentSchema.shape);
    expect(Object.keys(variables).filter((name) => !known.includes(name))).toEqual([]);
    expect(agentEnvironmentSchema.parse(variables)).toMatchObject({
      KUBEPORT_EKS_CLUSTERS: ['prod', 'staging'],
      KUBEPORT_DISCOVERY_TAG: 'kubeport=enabled',
      KUBEPORT_HOSTED_ZONE_ID: ZONE,
      KUBEPORT_AGENT_DOMAIN_NAME: 'kube.example.com',
      KUBEPORT_AGENT_PORT: 443,
      KUBEPORT_SPOOL_DIR: AGENT_SPOOL_DIR,
    });
    // ha publishes nothing itself: the alias record points at the NLB.
    const haNames = (containerOf(ha).Environment as { Name: string }[]).map(({ Name }) => Name);
    expect(haNames).not.toContain('KUBEPORT_HOSTED_ZONE_ID');
  });

  it('lets in only 443 from the given CIDRs, and out only 443 to the clusters and to AWS APIs; opens each cluster group to the agent', () => {
    const groupId = economy.logicalId(economy.stack.agentDeployment!.network.securityGroup);
    const group = economy.resources[groupId]!.Properties!;
    expect(group.SecurityGroupIngress).toEqual([
      expect.objectContaining({ CidrIp: '203.0.113.0/24', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      expect.objectContaining({ CidrIp: '198.51.100.7/32', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    expect(group.SecurityGroupEgress).toEqual([
      expect.objectContaining({ DestinationSecurityGroupId: CLUSTER_SG, IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      expect.objectContaining({ DestinationSecurityGroupId: OTHER_CLUSTER_SG, IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    const clusterRules = ofType(economy, 'AWS::EC2::SecurityGroupIngress').map(([, rule]) => rule.Properties!);
    expect(clusterRules).toEqual(
      [CLUSTER_SG, OTHER_CLUSTER_SG].map((clusterGroup) =>
        expect.objectContaining({
          GroupId: clusterGroup,
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          SourceSecurityGroupId: { 'Fn::GetAtt': [groupId, 'GroupId'] },
        }),
      ),
    );
    // The default is everyone on 443, nothing else.
    const haGroup = ha.resources[ha.logicalId(ha.stack.agentDeployment!.network.securityGroup)]!.Properties!;
    expect(haGroup.SecurityGroupIngress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })]);
  });

  it('puts ha behind an internet-facing NLB: TCP 443, an hour of idle timeout, client IP kept, HTTPS health checks, two tasks, an alias record', () => {
    expect(only(ha, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toMatchObject({ Type: 'network', Scheme: 'internet-facing' });
    expect(only(ha, 'AWS::ElasticLoadBalancingV2::Listener')).toMatchObject({
      Port: 443,
      Protocol: 'TCP',
      ListenerAttributes: [{ Key: 'tcp.idle_timeout.seconds', Value: String(AGENT_IDLE_TIMEOUT_SECONDS) }],
    });
    expect(AGENT_IDLE_TIMEOUT_SECONDS).toBeGreaterThanOrEqual(3600);
    const targets = only(ha, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(targets).toMatchObject({
      Protocol: 'TCP',
      Port: 443,
      TargetType: 'ip',
      HealthCheckProtocol: 'HTTPS',
      HealthCheckPath: HEALTH_PATH,
    });
    expect(targets.TargetGroupAttributes).toContainEqual({ Key: 'preserve_client_ip.enabled', Value: 'true' });
    expect(only(ha, 'AWS::ECS::Service').DesiredCount).toBe(2);
    expect(only(ha, 'AWS::Route53::RecordSet')).toMatchObject({ HostedZoneId: ZONE, Name: 'kube.example.com.', Type: 'A' });
    // economy has no load balancer and no record in the template (the task publishes its own).
    expect(ofType(economy, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toEqual([]);
    expect(ofType(economy, 'AWS::Route53::RecordSet')).toEqual([]);
  });

  it('tells the auth function where the agent is, its role and the names its certificate may carry', () => {
    const authId = economy.logicalId(economy.stack.functions.auth.function);
    const variables = (economy.resources[authId]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      KUBEPORT_AGENT_ADDRESS: 'kube.example.com:443',
      KUBEPORT_AGENT_ROLE_ARN: { 'Fn::GetAtt': [economy.taskRoleId, 'Arn'] },
    });
    expect(variables.KUBEPORT_AGENT_HOST_NAMES).toBe('kube.example.com');
    const haAuth = ha.resources[ha.logicalId(ha.stack.functions.auth.function)]!.Properties!.Environment as {
      Variables: Record<string, unknown>;
    };
    // ha: the Route 53 name and the NLB's own DNS name.
    const nlb = ha.logicalId(ha.stack.agentDeployment!.service.loadBalancer!);
    expect(haAuth.Variables.KUBEPORT_AGENT_HOST_NAMES).toEqual({
      'Fn::Join': [',', ['kube.example.com', { 'Fn::GetAtt': [nlb, 'DNSName'] }]],
    });
  });
});

describe("the agent's task role", () => {
  it('has no wildcard action, and only the actions the agent uses', () => {
    for (const { statements } of [economy, ha]) {
      const all = statements.flatMap(actions);
      expect(all.filter((action) => action.includes('*'))).toEqual([]);
      for (const statement of statements) expect(statement.Effect).toBe('Allow');
    }
    expect([...new Set(economy.statements.flatMap(actions))].sort()).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'eks:DescribeCluster',
      'eks:ListClusters',
      'execute-api:Invoke',
      'route53:ChangeResourceRecordSets',
      's3:PutObject',
      'sts:AssumeRole',
    ]);
    // A role in another account only when named (agentAssumeRoleArns), and only that one.
    const assume = economy.statements.filter((statement) => actions(statement).includes('sts:AssumeRole'));
    expect(assume.map((statement) => statement.Resource)).toEqual([CROSS_ACCOUNT_ROLE]);
    expect(ha.statements.flatMap(actions)).not.toContain('sts:AssumeRole');
  });

  it('describes only the listed clusters, unless discovery is on, when it may list the clusters of its own region', () => {
    const haEks = ha.statements.filter((statement) => actions(statement).some((action) => action.startsWith('eks:')));
    expect(haEks).toHaveLength(1);
    expect(JSON.stringify(haEks[0]!.Resource)).toMatch(/:cluster\/prod"\]\]\}$/);
    const list = economy.statements.find((statement) => actions(statement).includes('eks:ListClusters'))!;
    expect(list.Resource).toBe('*');
    expect(list.Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } });
    // "*" as a resource appears for ListClusters alone (it has no resource-level permission).
    const starred = economy.statements.filter((statement) => statement.Resource === '*');
    expect(starred.flatMap(actions)).toEqual(['eks:ListClusters']);
  });

  it('writes the resource table only in its own partitions (kube_cluster, kube_cluster_status), and reads without scanning', () => {
    const resourcesTable = economy.logicalId(economy.stack.storage.resources);
    const writes = economy.statements.filter(
      (statement) =>
        JSON.stringify(statement.Resource).includes(resourcesTable) && actions(statement).some((a) => /Put|Delete|Update/.test(a)),
    );
    expect(writes).toHaveLength(1);
    expect(writes[0]!.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['kube_cluster', KUBE_CLUSTER_STATUS_KIND] },
    });
    expect(economy.statements.flatMap(actions)).not.toContain('dynamodb:Scan');
    expect(economy.statements.flatMap(actions)).not.toContain('dynamodb:UpdateItem');
  });

  it('reads the resource table only in the partitions it needs: no local credentials, invites or GitHub records', () => {
    const resourcesTable = economy.logicalId(economy.stack.storage.resources);
    const reads = economy.statements.filter(
      (statement) => JSON.stringify(statement.Resource).includes(resourcesTable) && actions(statement).some((a) => /Get|Query/.test(a)),
    );
    expect(reads).toHaveLength(1);
    const kinds = (reads[0]!.Condition as Record<string, Record<string, string[]>>)['ForAllValues:StringEquals']!['dynamodb:LeadingKeys']!;
    expect([...kinds].sort()).toEqual(['cert_authority', 'kube_cluster', KUBE_CLUSTER_STATUS_KIND, 'lock', 'role', 'user'].sort());
    for (const secret of ['local_credentials', 'local_invites', 'github', 'github_identity']) expect(kinds).not.toContain(secret);
  });

  it('never touches the CA keys: no KMS action, and no key policy names it', () => {
    expect(economy.statements.flatMap(actions).filter((action) => action.startsWith('kms:'))).toEqual([]);
    for (const [, key] of ofType(economy, 'AWS::KMS::Key'))
      expect(JSON.stringify(key.Properties!.KeyPolicy)).not.toContain(economy.taskRoleId);
    expect(JSON.stringify(economy.stack.functions.certificateAuthorities.node.findAll().map((c) => c.node.path))).not.toContain('Agent');
  });

  it('invokes only POST /webapi/iam/host-cert of the API', () => {
    const invoke = economy.statements.find((statement) => actions(statement).includes('execute-api:Invoke'))!;
    const joined = (invoke.Resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    expect(joined.at(-1)).toMatch(/^\/\$default\/POST\/webapi\/iam\/host-cert$/);
    expect(actions(invoke)).toEqual(['execute-api:Invoke']);
    // The route exists, behind the IAM authorizer.
    const routes = ofType(economy, 'AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties!);
    expect(routes.find((route) => route.RouteKey === 'POST /webapi/iam/host-cert')).toMatchObject({ AuthorizationType: 'AWS_IAM' });
  });

  it('may upsert in Route 53 only its own A record, in economy; never in ha', () => {
    const route53 = economy.statements.find((statement) => actions(statement).includes('route53:ChangeResourceRecordSets'))!;
    expect(JSON.stringify(route53.Resource)).toMatch(new RegExp(`:route53:::hostedzone/${ZONE}"`));
    expect(route53.Condition).toEqual({
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['kube.example.com'],
        'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
        'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
      },
    });
    // Each change in a batch must match every key: another name, a TXT record or a DELETE is refused.
    const allowed = (request: Record<string, string[]>) =>
      Object.entries(route53.Condition!['ForAllValues:StringEquals']!).every(([key, values]) =>
        request[key]!.every((value) => (values as string[]).includes(value)),
      );
    const upsert = {
      'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['kube.example.com'],
      'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
      'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
    };
    expect(allowed(upsert)).toBe(true);
    expect(allowed({ ...upsert, 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['kube.example.com', 'www.example.com'] })).toBe(
      false,
    );
    expect(allowed({ ...upsert, 'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'] })).toBe(false);
    expect(allowed({ ...upsert, 'route53:ChangeResourceRecordSetsActions': ['DELETE'] })).toBe(false);
    expect(ha.statements.flatMap(actions).filter((action) => action.startsWith('route53:'))).toEqual([]);
  });

  it('is assumable by ECS tasks of its own account only', () => {
    const role = economy.resources[economy.taskRoleId]!.Properties!;
    expect(role.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Principal: { Service: 'ecs-tasks.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
  });
});

describe('the agent context, synthesized', () => {
  it('stops before synthesis naming the key to fix', () => {
    expect(() => synthesizeTemplate({ clusters: 'prod', vpcId: 'vpc-0123456789abcdef0', agentTopology: 'ha' })).toThrow(StackContextError);
    expect(() => synthesizeTemplate({ clusters: 'prod', agentTopology: 'ha', agentCapacity: 'reserved' })).toThrow(/agentCapacity: /);
  });
});
