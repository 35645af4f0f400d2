// What a synthesized CloudFormation template costs per month at idle, resource by resource, from
// the resource types and properties alone. A type this file does not know is listed as not
// priced, never skipped, so a new resource (a NAT gateway, say) cannot hide in the total.
import { PRICE_SHEET, type PriceSheet } from './prices.js';

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

export interface CloudFormationTemplate {
  Resources?: Record<string, TemplateResource>;
}

/** priced: costs money at idle (perhaps $0.00 after rounding); free: $0 for the reason given; not-priced: unknown to this file. */
export type CostKind = 'priced' | 'free' | 'not-priced';

export interface CostLine {
  logicalId: string;
  type: string;
  kind: CostKind;
  /** 0 for free and not-priced lines. */
  monthlyUsd: number;
  note: string;
}

type Pricing = { kind: 'priced'; monthlyUsd: number; note: string } | { kind: 'free' | 'not-priced'; note: string };

interface PricingContext {
  resources: Record<string, TemplateResource>;
  sheet: PriceSheet;
}

type Pricer = (properties: Record<string, unknown>, context: PricingContext, logicalId: string) => Pricing;

const priced = (monthlyUsd: number, note: string): Pricing => ({ kind: 'priced', monthlyUsd, note });
const free = (note: string): Pricing => ({ kind: 'free', note });
const notPriced = (note: string): Pricing => ({ kind: 'not-priced', note });
const usd = (value: number) => `$${value.toFixed(2)}`;
const monthly = (sheet: PriceSheet, hourlyUsd: number) => hourlyUsd * sheet.hoursPerMonth;

/** A literal number (CloudFormation often carries numbers as strings); undefined for an intrinsic function or nothing. */
function literalNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

const record = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** The logical id a `{ Ref: id }` names, if `value` is one. */
function referencedId(value: unknown): string | undefined {
  const ref = record(value).Ref;
  return typeof ref === 'string' ? ref : undefined;
}

const dynamoTable: Pricer = (properties, { sheet }) => {
  const { prices, idleData } = sheet;
  const gb = idleData.tableGb;
  // Each global secondary index projecting all attributes stores another copy of the items.
  const indexes = Array.isArray(properties.GlobalSecondaryIndexes) ? properties.GlobalSecondaryIndexes.length : 0;
  let total = gb * (1 + indexes) * prices.dynamoStorage.usd;
  const notes = [`storage of ${gb * 1000} MB assumed${indexes ? ` (+${indexes} index copies)` : ''}`];
  if (record(properties.PointInTimeRecoverySpecification).PointInTimeRecoveryEnabled === true) {
    total += gb * prices.dynamoPitr.usd;
    notes.push('PITR on that size');
  }
  if (properties.BillingMode === 'PAY_PER_REQUEST') {
    notes.push('on demand: requests $0 at idle');
  } else {
    const throughput = record(properties.ProvisionedThroughput);
    const reads = literalNumber(throughput.ReadCapacityUnits);
    const writes = literalNumber(throughput.WriteCapacityUnits);
    if (reads === undefined || writes === undefined) return notPriced('provisioned capacity that is not a literal');
    total += monthly(sheet, reads * prices.dynamoProvisionedRcu.usd + writes * prices.dynamoProvisionedWcu.usd);
    notes.push(`PROVISIONED ${reads} RCU / ${writes} WCU, paid every hour`);
  }
  return priced(total, notes.join('; '));
};

const bucket: Pricer = (properties, { sheet }) => {
  const gb = sheet.idleData.bucketGb;
  const versioned = record(properties.VersioningConfiguration).Status === 'Enabled';
  return priced(
    gb * sheet.prices.s3Standard.usd,
    `${gb * 1000} MB in S3 Standard assumed${versioned ? ' (old versions included)' : ''}; requests $0 at idle`,
  );
};

const logGroup = (sheet: PriceSheet, what: string): Pricing => {
  const gb = sheet.idleData.logGroupGb;
  return priced(gb * sheet.prices.logStorage.usd, `${what}: ${gb * 1000} MB of logs stored assumed; ingestion $0 at idle`);
};

const alarm: Pricer = (properties, { sheet }) => {
  // Metric math alarms are billed per metric they read; an alarm on one metric counts one.
  const metrics = Array.isArray(properties.Metrics)
    ? properties.Metrics.filter((metric) => record(metric).MetricStat !== undefined).length
    : 1;
  const periods = Array.isArray(properties.Metrics)
    ? properties.Metrics.map((metric) => literalNumber(record(record(metric).MetricStat).Period))
    : [literalNumber(properties.Period)];
  const highResolution = periods.some((period) => period !== undefined && period < 60);
  const price = highResolution ? sheet.prices.highResolutionAlarmMetric : sheet.prices.alarmMetric;
  return priced(
    metrics * price.usd,
    `${metrics} metric${metrics === 1 ? '' : 's'}, ${highResolution ? 'high' : 'standard'} resolution, ${usd(price.usd)} each`,
  );
};

/** How many zones (so public IPv4 addresses) a load balancer or endpoint spans; undefined when the template does not say literally. */
function zoneCount(properties: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = properties[key];
    if (Array.isArray(value)) return value.length;
  }
  return undefined;
}

const ASSUMED_ZONES = 2;

const loadBalancer: Pricer = (properties, { sheet }) => {
  const { prices } = sheet;
  const type = typeof properties.Type === 'string' ? properties.Type : 'application';
  if (type === 'gateway') return notPriced('gateway load balancer');
  const internetFacing = properties.Scheme !== 'internal';
  const counted = zoneCount(properties, 'SubnetMappings', 'Subnets');
  const zones = counted ?? ASSUMED_ZONES;
  const ips = internetFacing ? zones : 0;
  const units = type === 'network' ? sheet.idleData.nlbIdleCapacityUnits : 0;
  const capacity = monthly(sheet, units * prices.nlbCapacityUnit.usd);
  const total = monthly(sheet, prices.loadBalancer.usd + ips * prices.publicIpv4.usd) + capacity;
  const zonesNote = counted === undefined ? `${zones} zones assumed (subnets not literal)` : `${zones} zone${zones === 1 ? '' : 's'}`;
  const capacityNote = units > 0 ? `${units} NLCU for health checks ${usd(capacity)}` : 'capacity units ~0 at idle';
  return priced(
    total,
    `${type === 'network' ? 'NLB' : 'ALB'} ${usd(monthly(sheet, prices.loadBalancer.usd))} + ${ips} public IPv4 (${zonesNote}); ${capacityNote}`,
  );
};

const fargateService: Pricer = (properties, { resources, sheet }) => {
  const { prices } = sheet;
  const taskId = referencedId(properties.TaskDefinition);
  const task = taskId ? resources[taskId] : undefined;
  if (!task) return notPriced('its task definition is not a Ref to this template');
  const strategy = Array.isArray(properties.CapacityProviderStrategy)
    ? properties.CapacityProviderStrategy.map((s) => record(s).CapacityProvider)
    : [];
  const fargate =
    properties.LaunchType === 'FARGATE' || (strategy.length > 0 && strategy.every((p) => p === 'FARGATE' || p === 'FARGATE_SPOT'));
  if (!fargate) return notPriced('not on Fargate: the EC2 instances it runs on are priced apart');
  const taskProperties = task.Properties ?? {};
  const cpuUnits = literalNumber(taskProperties.Cpu);
  const memoryMib = literalNumber(taskProperties.Memory);
  // CloudFormation starts one task when DesiredCount is left out.
  const count = properties.DesiredCount === undefined ? 1 : literalNumber(properties.DesiredCount);
  if (cpuUnits === undefined || memoryMib === undefined || count === undefined)
    return notPriced('task size or desired count is not a literal');
  const architecture = record(taskProperties.RuntimePlatform).CpuArchitecture === 'ARM64' ? 'ARM64' : 'X86_64';
  // Spot only when every task is (a strategy mixing FARGATE is priced as on demand, an upper bound); Spot has no ARM64.
  const spot = strategy.length > 0 && strategy.every((p) => p === 'FARGATE_SPOT') && architecture === 'X86_64';
  const [vcpuPrice, gbPrice] = spot
    ? [prices.fargateSpotX86Vcpu, prices.fargateSpotX86Gb]
    : architecture === 'ARM64'
      ? [prices.fargateArmVcpu, prices.fargateArmGb]
      : [prices.fargateX86Vcpu, prices.fargateX86Gb];
  const vcpu = cpuUnits / 1024;
  const gb = memoryMib / 1024;
  const publicIp = record(record(properties.NetworkConfiguration).AwsvpcConfiguration).AssignPublicIp === 'ENABLED';
  const ips = publicIp ? count : 0;
  const compute = monthly(sheet, count * (vcpu * vcpuPrice.usd + gb * gbPrice.usd));
  const addresses = monthly(sheet, ips * prices.publicIpv4.usd);
  const spotNote = spot
    ? '; Fargate Spot at a third of the on-demand price (it floats: 50–70% off)'
    : strategy.includes('FARGATE_SPOT')
      ? '; Fargate Spot mixed with on demand, priced as on demand (an upper bound)'
      : '';
  return priced(
    compute + addresses,
    `${count} × Fargate${spot ? ' Spot' : ''} ${architecture} ${vcpu} vCPU / ${gb} GB (${taskId}) ${usd(compute)} + ${ips} public IPv4 ${usd(addresses)}${spotNote}`,
  );
};

const vpcEndpoint: Pricer = (properties, { sheet }) => {
  const type = typeof properties.VpcEndpointType === 'string' ? properties.VpcEndpointType : 'Gateway';
  if (type === 'Gateway') return free('gateway endpoint (S3, DynamoDB): free');
  const counted = zoneCount(properties, 'SubnetIds');
  const zones = counted ?? ASSUMED_ZONES;
  return priced(
    monthly(sheet, zones * sheet.prices.interfaceEndpoint.usd),
    `${type} endpoint in ${zones} zone${zones === 1 ? '' : 's'}${counted === undefined ? ' (assumed)' : ''}; data processed extra`,
  );
};

const ssmParameter: Pricer = (properties, { sheet }) =>
  properties.Tier === 'Advanced' ? priced(sheet.prices.advancedParameter.usd, 'advanced parameter') : free('standard parameter: free');

const lambdaAlias: Pricer = (properties) =>
  properties.ProvisionedConcurrencyConfig ? notPriced('provisioned concurrency is paid every hour; not priced here') : free('alias: free');

const kmsKey: Pricer = (properties, { sheet }) => {
  const notes = ['per key-month; requests are per use'];
  // KMS bills each of the first two rotations of key material as another key-month.
  if (properties.EnableKeyRotation === true) notes.push('+$1/month after each of the first two automatic rotations (up to $3)');
  if (properties.KeyUsage === 'SIGN_VERIFY')
    notes.push('a CA rotation holds a second key, created outside the template, until the old one retires');
  return priced(sheet.prices.kmsKey.usd, notes.join('; '));
};

const PER_REQUEST = 'per request; $0 at idle';

/** Free at idle, with the reason. */
const FREE: Record<string, string> = {
  'AWS::CDK::Metadata': 'CDK version report',
  'AWS::IAM::Role': 'IAM: free',
  'AWS::IAM::Policy': 'IAM: free',
  'AWS::IAM::ManagedPolicy': 'IAM: free',
  'AWS::IAM::InstanceProfile': 'IAM: free',
  'AWS::Lambda::Function': 'Lambda: per request and GB-second; $0 at idle',
  'AWS::Lambda::Permission': 'free',
  'AWS::Lambda::Version': 'free',
  'AWS::Lambda::EventInvokeConfig': 'free',
  'AWS::Lambda::Url': `function URL: ${PER_REQUEST}`,
  'AWS::ApiGatewayV2::Api': `HTTP API: ${PER_REQUEST}`,
  'AWS::ApiGatewayV2::Stage': 'part of the HTTP API',
  'AWS::ApiGatewayV2::Route': 'part of the HTTP API',
  'AWS::ApiGatewayV2::Integration': 'part of the HTTP API',
  'AWS::ApiGatewayV2::Authorizer': 'part of the HTTP API',
  'AWS::ApiGatewayV2::DomainName': 'custom domain: free',
  'AWS::ApiGatewayV2::ApiMapping': 'free',
  'AWS::S3::BucketPolicy': 'free',
  'AWS::KMS::Alias': 'free',
  'AWS::SecretsManager::RotationSchedule': 'rotation runs a Lambda: per request',
  'AWS::SecretsManager::ResourcePolicy': 'free',
  'AWS::Logs::ResourcePolicy': 'free',
  'AWS::Logs::MetricFilter': 'its custom metric is billed only in months it receives data; $0 at idle',
  'AWS::Logs::SubscriptionFilter': 'per event delivered; $0 at idle',
  'AWS::Glue::Database': 'Data Catalog: first million objects stored free',
  'AWS::Glue::Table': 'Data Catalog: first million objects stored free',
  'AWS::Athena::WorkGroup': 'per TB scanned; $0 at idle',
  'AWS::Events::Rule': 'free (AWS service events)',
  'AWS::SNS::Topic': `SNS: ${PER_REQUEST}`,
  'AWS::SNS::Subscription': 'free',
  'AWS::SNS::TopicPolicy': 'free',
  'AWS::SQS::Queue': `SQS: ${PER_REQUEST}`,
  'AWS::SQS::QueuePolicy': 'free',
  'AWS::EC2::VPC': 'free',
  'AWS::EC2::Subnet': 'free',
  'AWS::EC2::RouteTable': 'free',
  'AWS::EC2::Route': 'free',
  'AWS::EC2::SubnetRouteTableAssociation': 'free',
  'AWS::EC2::InternetGateway': 'free (data out is per GB)',
  'AWS::EC2::VPCGatewayAttachment': 'free',
  'AWS::EC2::SecurityGroup': 'free',
  'AWS::EC2::SecurityGroupIngress': 'free',
  'AWS::EC2::SecurityGroupEgress': 'free',
  'AWS::ECS::Cluster': 'free: Fargate bills the tasks',
  'AWS::ECS::ClusterCapacityProviderAssociations': 'free',
  'AWS::EKS::AccessEntry': 'free (the EKS cluster is yours, billed apart)',
  'AWS::ECS::TaskDefinition': 'priced with the service that runs it',
  'AWS::ElasticLoadBalancingV2::Listener': 'priced with its load balancer',
  'AWS::ElasticLoadBalancingV2::TargetGroup': 'priced with its load balancer',
  'AWS::Route53::RecordSet': "records are free; queries $0.40/M ($0 for alias queries to AWS resources); the hosted zone is the user's own",
  'AWS::Route53::RecordSetGroup': "records are free; the hosted zone is the user's own",
  'AWS::ApplicationAutoScaling::ScalableTarget': 'free',
  'AWS::ApplicationAutoScaling::ScalingPolicy': 'free',
  'AWS::CloudFormation::CustomResource': 'runs at deploy only',
};

const PRICERS: Record<string, Pricer> = {
  'AWS::KMS::Key': kmsKey,
  'AWS::SecretsManager::Secret': (_, { sheet }) => priced(sheet.prices.secret.usd, 'per secret-month'),
  'AWS::CloudWatch::Alarm': alarm,
  'AWS::CloudWatch::CompositeAlarm': (_, { sheet }) => priced(sheet.prices.compositeAlarm.usd, 'composite alarm'),
  'AWS::CloudWatch::Dashboard': (_, { sheet }) => priced(sheet.prices.dashboard.usd, 'dashboard (the first 3 per account are free)'),
  'AWS::Logs::LogGroup': (_, { sheet }) => logGroup(sheet, 'log group'),
  // CDK's log retention resource: the function's log group, created by Lambda at its first log.
  'Custom::LogRetention': (_, { sheet }) => logGroup(sheet, "a function's log group (created at its first log)"),
  'AWS::DynamoDB::Table': dynamoTable,
  'AWS::S3::Bucket': bucket,
  'AWS::ECR::Repository': (_, { sheet }) =>
    priced(sheet.idleData.imageGb * sheet.prices.ecrStorage.usd, `${sheet.idleData.imageGb * 1000} MB of images assumed`),
  'AWS::ECS::Service': fargateService,
  'AWS::ElasticLoadBalancingV2::LoadBalancer': loadBalancer,
  'AWS::EC2::EIP': (_, { sheet }) => priced(monthly(sheet, sheet.prices.publicIpv4.usd), 'public IPv4 address'),
  'AWS::EC2::NatGateway': (_, { sheet }) =>
    priced(monthly(sheet, sheet.prices.natGateway.usd), 'NAT gateway: paid every hour, plus per GB processed (its EIP is its own line)'),
  'AWS::EC2::VPCEndpoint': vpcEndpoint,
  'AWS::Route53::HostedZone': (_, { sheet }) => priced(sheet.prices.hostedZone.usd, 'a hosted zone the stack creates'),
  'AWS::SSM::Parameter': ssmParameter,
  'AWS::Lambda::Alias': lambdaAlias,
};

function priceResource(logicalId: string, resource: TemplateResource, context: PricingContext): Pricing {
  const pricer = PRICERS[resource.Type];
  if (pricer) return pricer(resource.Properties ?? {}, context, logicalId);
  const freeReason = FREE[resource.Type];
  if (freeReason) return free(freeReason);
  if (resource.Type.startsWith('Custom::')) return free('custom resource: runs at deploy only');
  return notPriced('type unknown to lib/infra/idle-cost.ts: add its price');
}

/** One line per resource of the template, in template order. */
export function priceTemplate(template: CloudFormationTemplate, sheet: PriceSheet = PRICE_SHEET): CostLine[] {
  const resources = template.Resources ?? {};
  const context = { resources, sheet };
  return Object.entries(resources).map(([logicalId, resource]) => {
    const pricing = priceResource(logicalId, resource, context);
    return {
      logicalId,
      type: resource.Type,
      kind: pricing.kind,
      monthlyUsd: pricing.kind === 'priced' ? pricing.monthlyUsd : 0,
      note: pricing.note,
    };
  });
}

export const totalMonthlyUsd = (lines: readonly CostLine[]) => lines.reduce((sum, line) => sum + line.monthlyUsd, 0);
