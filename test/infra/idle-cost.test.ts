import { describe, expect, it } from 'vitest';
import { type CloudFormationTemplate, type CostLine, priceTemplate, totalMonthlyUsd } from '../../lib/infra/idle-cost.js';
import { PRICE_SHEET } from '../../lib/infra/prices.js';

const HOURS = PRICE_SHEET.hoursPerMonth;
const { prices, idleData } = PRICE_SHEET;

/** A small template with one resource of each kind the pricing knows, and one it does not. */
const FIXTURE: CloudFormationTemplate = {
  Resources: {
    CaKey: { Type: 'AWS::KMS::Key', Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' } },
    CaKeyAlias: { Type: 'AWS::KMS::Alias' },
    Secret: { Type: 'AWS::SecretsManager::Secret' },
    ErrorsAlarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors', Period: 300 } },
    FastAlarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors', Period: 10 } },
    MathAlarm: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        Metrics: [
          { Id: 'a', MetricStat: { Period: 60 } },
          { Id: 'b', MetricStat: { Period: 60 } },
          { Id: 'rate', Expression: 'a / b' },
        ],
      },
    },
    Logs: { Type: 'AWS::Logs::LogGroup' },
    AuthLogRetention: { Type: 'Custom::LogRetention' },
    Table: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        GlobalSecondaryIndexes: [{ IndexName: 'by_user' }],
      },
    },
    ProvisionedTable: {
      Type: 'AWS::DynamoDB::Table',
      Properties: { ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } },
    },
    Bucket: { Type: 'AWS::S3::Bucket', Properties: { VersioningConfiguration: { Status: 'Enabled' } } },
    AgentTask: {
      Type: 'AWS::ECS::TaskDefinition',
      Properties: { Cpu: '256', Memory: '512', RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' } },
    },
    AgentService: {
      Type: 'AWS::ECS::Service',
      Properties: {
        LaunchType: 'FARGATE',
        DesiredCount: 2,
        TaskDefinition: { Ref: 'AgentTask' },
        NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'ENABLED', Subnets: ['subnet-a', 'subnet-b'] } },
      },
    },
    AgentLoadBalancer: {
      Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
      Properties: { Type: 'network', Scheme: 'internet-facing', Subnets: ['subnet-a', 'subnet-b'] },
    },
    InternalAlb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Scheme: 'internal', Subnets: ['subnet-a'] } },
    Listener: { Type: 'AWS::ElasticLoadBalancingV2::Listener' },
    Nat: { Type: 'AWS::EC2::NatGateway' },
    NatAddress: { Type: 'AWS::EC2::EIP' },
    S3Endpoint: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Gateway' } },
    KmsEndpoint: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Interface', SubnetIds: ['subnet-a', 'subnet-b'] } },
    AgentRecord: { Type: 'AWS::Route53::RecordSet' },
    AuthFunction: { Type: 'AWS::Lambda::Function' },
    AuditTable: { Type: 'AWS::Glue::Table' },
    Bootstrap: { Type: 'Custom::CaBootstrap' },
    Bastion: { Type: 'AWS::EC2::Instance', Properties: { InstanceType: 't4g.nano' } },
  },
};

describe('priceTemplate', () => {
  const lines = priceTemplate(FIXTURE);
  const line = (id: string): CostLine => {
    const found = lines.find((candidate) => candidate.logicalId === id);
    if (!found) throw new Error(`no line for ${id}`);
    return found;
  };

  it('gives every resource of the template exactly one line, in template order', () => {
    expect(lines.map((candidate) => candidate.logicalId)).toEqual(Object.keys(FIXTURE.Resources!));
  });

  it('prices keys and secrets per month', () => {
    expect(line('CaKey')).toMatchObject({ kind: 'priced', monthlyUsd: 1 });
    expect(line('Secret')).toMatchObject({ kind: 'priced', monthlyUsd: 0.4 });
  });

  it('prices alarms per metric they read, high resolution when the period is under a minute', () => {
    expect(line('ErrorsAlarm').monthlyUsd).toBeCloseTo(0.1);
    expect(line('FastAlarm').monthlyUsd).toBeCloseTo(0.3);
    expect(line('MathAlarm').monthlyUsd).toBeCloseTo(0.2);
    expect(line('MathAlarm').note).toContain('2 metrics');
  });

  it('prices stored data at the assumed idle size: logs, tables with their index copies and PITR, buckets', () => {
    expect(line('Logs').monthlyUsd).toBeCloseTo(idleData.logGroupGb * prices.logStorage.usd, 6);
    expect(line('AuthLogRetention')).toMatchObject({ kind: 'priced' });
    expect(line('AuthLogRetention').monthlyUsd).toBeCloseTo(line('Logs').monthlyUsd, 9);
    expect(line('Table').monthlyUsd).toBeCloseTo(idleData.tableGb * (2 * prices.dynamoStorage.usd + prices.dynamoPitr.usd), 9);
    expect(line('Bucket').monthlyUsd).toBeCloseTo(idleData.bucketGb * prices.s3Standard.usd, 9);
  });

  it('makes provisioned DynamoDB capacity show up, as it is paid every hour', () => {
    const capacity = 5 * (prices.dynamoProvisionedRcu.usd + prices.dynamoProvisionedWcu.usd) * HOURS;
    expect(line('ProvisionedTable').monthlyUsd).toBeCloseTo(idleData.tableGb * prices.dynamoStorage.usd + capacity, 9);
    expect(line('ProvisionedTable').note).toContain('PROVISIONED');
  });

  it("prices a Fargate service from its task definition's size and architecture, its desired count and its public addresses", () => {
    const perTask = (0.25 * prices.fargateArmVcpu.usd + 0.5 * prices.fargateArmGb.usd + prices.publicIpv4.usd) * HOURS;
    expect(line('AgentService').monthlyUsd).toBeCloseTo(2 * perTask, 9);
    // One ARM task of 0.25 vCPU and 0.5 GB is the reference's $7.21 a month, plus $3.65 for its address.
    expect(perTask).toBeCloseTo(7.21 + 3.65, 1);
    expect(line('AgentTask')).toMatchObject({ kind: 'free', monthlyUsd: 0 });
  });

  it('prices a service wholly on Fargate Spot at the Spot X86_64 price, and one mixing on-demand capacity as on demand', () => {
    const task = {
      Type: 'AWS::ECS::TaskDefinition',
      Properties: { Cpu: '256', Memory: '512', RuntimePlatform: { CpuArchitecture: 'X86_64' } },
    };
    const service = (providers: string[]) => ({
      Type: 'AWS::ECS::Service',
      Properties: {
        TaskDefinition: { Ref: 'Task' },
        CapacityProviderStrategy: providers.map((CapacityProvider) => ({ CapacityProvider })),
      },
    });
    const [spot] = priceTemplate({ Resources: { Service: service(['FARGATE_SPOT']), Task: task } });
    const [mixed] = priceTemplate({ Resources: { Service: service(['FARGATE_SPOT', 'FARGATE']), Task: task } });
    expect(spot!.monthlyUsd).toBeCloseTo((0.25 * prices.fargateSpotX86Vcpu.usd + 0.5 * prices.fargateSpotX86Gb.usd) * HOURS, 9);
    expect(spot!.note).toContain('Spot');
    expect(mixed!.monthlyUsd).toBeCloseTo((0.25 * prices.fargateX86Vcpu.usd + 0.5 * prices.fargateX86Gb.usd) * HOURS, 9);
    expect(prices.fargateSpotX86Vcpu.usd).toBeLessThan(prices.fargateX86Vcpu.usd / 2);
  });

  it('prices a load balancer by the hour plus a public address per zone when internet-facing', () => {
    const idleUnits = idleData.nlbIdleCapacityUnits * prices.nlbCapacityUnit.usd;
    expect(line('AgentLoadBalancer').monthlyUsd).toBeCloseTo((prices.loadBalancer.usd + 2 * prices.publicIpv4.usd + idleUnits) * HOURS, 9);
    expect(line('AgentLoadBalancer').note).toContain('NLCU');
    expect(line('AgentLoadBalancer').note).toContain('NLB');
    expect(line('InternalAlb').monthlyUsd).toBeCloseTo(prices.loadBalancer.usd * HOURS, 9);
    expect(line('Listener')).toMatchObject({ kind: 'free' });
  });

  it('makes a NAT gateway, an Elastic IP and an interface endpoint cost what they cost, and gateway endpoints nothing', () => {
    expect(line('Nat').monthlyUsd).toBeCloseTo(prices.natGateway.usd * HOURS, 9);
    expect(line('NatAddress').monthlyUsd).toBeCloseTo(prices.publicIpv4.usd * HOURS, 9);
    expect(line('KmsEndpoint').monthlyUsd).toBeCloseTo(2 * prices.interfaceEndpoint.usd * HOURS, 9);
    expect(line('S3Endpoint')).toMatchObject({ kind: 'free', monthlyUsd: 0 });
  });

  it('lists per-request and free resources at $0 with the reason', () => {
    for (const id of ['CaKeyAlias', 'AgentRecord', 'AuthFunction', 'AuditTable', 'Bootstrap']) {
      expect(line(id)).toMatchObject({ kind: 'free', monthlyUsd: 0 });
      expect(line(id).note).not.toBe('');
    }
    expect(line('AuditTable').note).toContain('million objects');
  });

  it('lists a type it does not know as not priced rather than skipping it', () => {
    expect(line('Bastion')).toMatchObject({ kind: 'not-priced', monthlyUsd: 0, type: 'AWS::EC2::Instance' });
  });

  it('refuses to guess a service whose size is not a literal', () => {
    const [service] = priceTemplate({
      Resources: {
        Service: { Type: 'AWS::ECS::Service', Properties: { LaunchType: 'FARGATE', TaskDefinition: { Ref: 'Task' } } },
        Task: { Type: 'AWS::ECS::TaskDefinition', Properties: { Cpu: { 'Fn::GetAtt': ['X', 'Y'] }, Memory: '512' } },
      },
    });
    expect(service).toMatchObject({ kind: 'not-priced' });
  });

  it('totals the priced lines', () => {
    const expected = lines.filter((candidate) => candidate.kind === 'priced').reduce((sum, candidate) => sum + candidate.monthlyUsd, 0);
    expect(totalMonthlyUsd(lines)).toBeCloseTo(expected, 9);
    expect(totalMonthlyUsd(lines)).toBeGreaterThan(70); // the NAT gateway and the NLB alone are ~$50
  });
});
