// Where Kubeport keeps its state on AWS: the three DynamoDB tables (same key schemas as the
// adapters and local mode use) and the audit and recordings buckets, each moving to cheaper
// storage as it ages.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type TableSchema, auditTableSchema, resourceTableSchema, stateTableSchema } from '../adapters/aws/dynamo-tables.js';
import type { AuditLockMode } from './stack-context.js';

export interface StorageProps {
  /**
   * Keep tables and buckets when the stack is deleted, and protect the tables from deletion.
   * @default true
   */
  readonly retain?: boolean;
  /**
   * How long each audit archive object is write-protected (S3 Object Lock).
   * @default Duration.days(365)
   */
  readonly auditLockRetention?: Duration;
  /**
   * The Object Lock mode. Governance: a principal with s3:BypassGovernanceRetention (an account
   * administrator has it) may delete or shorten the lock of an archived event. Compliance: no one
   * may, the root user included, until the retention ends; the bucket is then always retained, as
   * CloudFormation could not empty it.
   * @default 'governance'
   */
  readonly auditLockMode?: AuditLockMode;
  /**
   * When audit archive objects move to Glacier Instant Retrieval (still queryable by Athena, a
   * fifth of the storage price; objects under 128 KB stay where they are).
   * @default Duration.days(90)
   */
  readonly auditColdAfter?: Duration;
  /**
   * When recordings move to Intelligent-Tiering (old sessions are rarely played).
   * @default Duration.days(30)
   */
  readonly recordingsTieringAfter?: Duration;
  /**
   * How long an overwritten or deleted recording's old version is kept.
   * @default Duration.days(30)
   */
  readonly recordingsNoncurrentExpiry?: Duration;
}

export class Storage extends Construct {
  readonly resources: dynamodb.Table;
  readonly state: dynamodb.Table;
  readonly audit: dynamodb.Table;
  readonly auditBucket: s3.Bucket;
  readonly recordingsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    const retain = props.retain ?? true;
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const table = (tableId: string, schema: TableSchema) => {
      const created = new dynamodb.Table(this, tableId, {
        partitionKey: { name: schema.partitionKey.name, type: schema.partitionKey.type as dynamodb.AttributeType },
        ...(schema.sortKey ? { sortKey: { name: schema.sortKey.name, type: schema.sortKey.type as dynamodb.AttributeType } } : {}),
        ...(schema.timeToLiveAttribute ? { timeToLiveAttribute: schema.timeToLiveAttribute } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: retain,
        removalPolicy,
      });
      for (const index of schema.globalSecondaryIndexes ?? []) {
        created.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: { name: index.partitionKey.name, type: index.partitionKey.type as dynamodb.AttributeType },
          ...(index.sortKey ? { sortKey: { name: index.sortKey.name, type: index.sortKey.type as dynamodb.AttributeType } } : {}),
        });
      }
      return created;
    };
    this.resources = table('Resources', resourceTableSchema);
    this.state = table('State', stateTableSchema);
    this.audit = table('Audit', auditTableSchema);

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      // Access logs are for incident review; three months keeps the bucket small.
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
    });
    const bucket = (bucketId: string, prefix: string, more: Partial<s3.BucketProps>) =>
      new s3.Bucket(this, bucketId, {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        versioned: true,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: prefix,
        removalPolicy,
        ...more,
      });
    const lockRetention = props.auditLockRetention ?? Duration.days(365);
    const compliance = props.auditLockMode === 'compliance';
    this.auditBucket = bucket('AuditBucket', 'audit/', {
      // Object Lock needs versioning (above); an event once archived cannot be altered or removed
      // during the retention: in governance mode, not without s3:BypassGovernanceRetention; in
      // compliance mode, not by anyone.
      objectLockEnabled: true,
      objectLockDefaultRetention: compliance
        ? s3.ObjectLockRetention.compliance(lockRetention)
        : s3.ObjectLockRetention.governance(lockRetention),
      ...(compliance ? { removalPolicy: RemovalPolicy.RETAIN } : {}),
      lifecycleRules: [
        {
          id: 'AuditToGlacierInstantRetrieval',
          transitions: [
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: props.auditColdAfter ?? Duration.days(90) },
          ],
        },
      ],
    });
    this.recordingsBucket = bucket('RecordingsBucket', 'recordings/', {
      lifecycleRules: [
        {
          id: 'RecordingsToIntelligentTiering',
          transitions: [
            { storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: props.recordingsTieringAfter ?? Duration.days(30) },
          ],
          noncurrentVersionExpiration: props.recordingsNoncurrentExpiry ?? Duration.days(30),
        },
      ],
    });
  }
}
