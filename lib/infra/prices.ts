// Every price `npm run cost` uses, in one place: one region, the day they were taken, and where
// each comes from. Idle cost only: what a deployment pays per month with no one using it.
// Per-request prices (Lambda, API Gateway, DynamoDB on demand, KMS and Secrets Manager calls,
// Route 53 queries) are zero at idle and appear only in the notes.

export interface Price {
  /** US dollars per `unit`. */
  readonly usd: number;
  readonly unit: 'month' | 'hour' | 'GB-month' | 'vCPU-hour' | 'GB-hour';
  /** Where the figure was read. */
  readonly source: string;
}

/**
 * Where each price comes from. "project reference" is ../shared/reference/peers-and-eks.md §3, read
 * on `takenOn`; the AWS pricing pages are AWS's published us-east-1 list prices as of that day,
 * not re-read from the pages by a program: check a page before relying on its figure.
 */
const AWS_PRICING = (page: string) => `AWS pricing page ${page}`;
const REFERENCE = (row: string) => `project reference §3, row "${row}"`;

export const PRICE_SHEET = {
  region: 'us-east-1',
  /** When this sheet was compiled. */
  takenOn: '2026-12-02',
  /** AWS bills a month as 730 hours. */
  hoursPerMonth: 730,
  /**
   * The data an idle deployment holds, assumed: a few MB of users, roles and CA resources per
   * table, a few MB of audit and recording objects per bucket, a few MB of logs per log group.
   */
  idleData: {
    tableGb: 0.005,
    bucketGb: 0.01,
    logGroupGb: 0.005,
    /** One container image kept in a repository the stack owns, or the CDK bootstrap's assets repository (the agent's). */
    imageGb: 0.05,
    /** An idle NLB's capacity units: health checks only (new connections, bytes); a tenth of one NLCU, generously. */
    nlbIdleCapacityUnits: 0.1,
  },
  prices: {
    kmsKey: {
      usd: 1,
      unit: 'month',
      source: `${AWS_PRICING('aws.amazon.com/kms/pricing')} (the first two rotations of key material add $1 each); ${REFERENCE('KMS price')}`,
    },
    secret: { usd: 0.4, unit: 'month', source: AWS_PRICING('aws.amazon.com/secrets-manager/pricing') },
    alarmMetric: {
      usd: 0.1,
      unit: 'month',
      source: `${AWS_PRICING('aws.amazon.com/cloudwatch/pricing')} (standard resolution, per metric)`,
    },
    highResolutionAlarmMetric: { usd: 0.3, unit: 'month', source: `${AWS_PRICING('aws.amazon.com/cloudwatch/pricing')} (high resolution)` },
    compositeAlarm: { usd: 0.5, unit: 'month', source: AWS_PRICING('aws.amazon.com/cloudwatch/pricing') },
    dashboard: { usd: 3, unit: 'month', source: `${AWS_PRICING('aws.amazon.com/cloudwatch/pricing')} (first 3 per account free)` },
    logStorage: { usd: 0.03, unit: 'GB-month', source: `${AWS_PRICING('aws.amazon.com/cloudwatch/pricing')} (logs archived)` },
    dynamoStorage: {
      usd: 0.25,
      unit: 'GB-month',
      source: `${AWS_PRICING('aws.amazon.com/dynamodb/pricing/on-demand')} (Standard table class)`,
    },
    dynamoPitr: { usd: 0.2, unit: 'GB-month', source: `${AWS_PRICING('aws.amazon.com/dynamodb/pricing/on-demand')} (continuous backups)` },
    dynamoProvisionedWcu: { usd: 0.00065, unit: 'hour', source: AWS_PRICING('aws.amazon.com/dynamodb/pricing/provisioned') },
    dynamoProvisionedRcu: { usd: 0.00013, unit: 'hour', source: AWS_PRICING('aws.amazon.com/dynamodb/pricing/provisioned') },
    s3Standard: { usd: 0.023, unit: 'GB-month', source: `${AWS_PRICING('aws.amazon.com/s3/pricing')} (S3 Standard, first 50 TB)` },
    ecrStorage: { usd: 0.1, unit: 'GB-month', source: AWS_PRICING('aws.amazon.com/ecr/pricing') },
    fargateArmVcpu: { usd: 0.03238, unit: 'vCPU-hour', source: REFERENCE('Fargate') },
    fargateArmGb: { usd: 0.00356, unit: 'GB-hour', source: REFERENCE('Fargate') },
    fargateX86Vcpu: { usd: 0.04048, unit: 'vCPU-hour', source: REFERENCE('Fargate') },
    fargateX86Gb: { usd: 0.004445, unit: 'GB-hour', source: REFERENCE('Fargate') },
    // Fargate Spot runs X86_64 only. Its price floats (AWS: "up to 70%" off on demand; third parties
    // report 50–70%, one measured comparison about two thirds off); priced at a third of on demand.
    // At the dear end (half price) the economy-spot deployment costs about $1.40 a month more.
    fargateSpotX86Vcpu: {
      usd: 0.04048 / 3,
      unit: 'vCPU-hour',
      source: `${AWS_PRICING('aws.amazon.com/fargate/pricing')} ("Current Spot price" table, which varies): assumed two thirds off on demand`,
    },
    fargateSpotX86Gb: {
      usd: 0.004445 / 3,
      unit: 'GB-hour',
      source: `${AWS_PRICING('aws.amazon.com/fargate/pricing')} ("Current Spot price" table, which varies): assumed two thirds off on demand`,
    },
    loadBalancer: { usd: 0.0225, unit: 'hour', source: `${REFERENCE('NLB')} (an ALB's hourly price is the same)` },
    /** NLB capacity units: at idle only health checks pass, far below one NLCU; counted as this fraction of one. */
    nlbCapacityUnit: { usd: 0.006, unit: 'hour', source: REFERENCE('NLB') },
    publicIpv4: { usd: 0.005, unit: 'hour', source: REFERENCE('Public IPv4') },
    natGateway: { usd: 0.045, unit: 'hour', source: `${AWS_PRICING('aws.amazon.com/vpc/pricing')} (plus $0.045/GB processed)` },
    interfaceEndpoint: { usd: 0.01, unit: 'hour', source: `${AWS_PRICING('aws.amazon.com/privatelink/pricing')} (per endpoint per zone)` },
    hostedZone: { usd: 0.5, unit: 'month', source: AWS_PRICING('aws.amazon.com/route53/pricing') },
    advancedParameter: { usd: 0.05, unit: 'month', source: AWS_PRICING('aws.amazon.com/systems-manager/pricing') },
  },
} as const satisfies {
  region: string;
  takenOn: string;
  hoursPerMonth: number;
  idleData: Record<string, number>;
  prices: Record<string, Price>;
};

export type PriceSheet = typeof PRICE_SHEET;
