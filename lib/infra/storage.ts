// Where Kubeport keeps its state on AWS: the three DynamoDB tables (same key schemas as the
// adapters and local mode use) and the audit and recordings buckets.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type TableSchema, auditTableSchema, resourceTableSchema, stateTableSchema } from '../adapters/aws/dynamo-tables.js';

export interface StorageProps {
  /**
   * Keep tables and buckets when the stack is deleted.
   * @default true
   */
  readonly retain?: boolean;
}

export class Storage extends Construct {
  readonly resources: dynamodb.Table;
  readonly state: dynamodb.Table;
  readonly audit: dynamodb.Table;
  readonly auditBucket: s3.Bucket;
  readonly recordingsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    const removalPolicy = props.retain === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const table = (tableId: string, schema: TableSchema) => {
      const created = new dynamodb.Table(this, tableId, {
        partitionKey: { name: schema.partitionKey.name, type: schema.partitionKey.type as dynamodb.AttributeType },
        ...(schema.sortKey ? { sortKey: { name: schema.sortKey.name, type: schema.sortKey.type as dynamodb.AttributeType } } : {}),
        ...(schema.timeToLiveAttribute ? { timeToLiveAttribute: schema.timeToLiveAttribute } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
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
    const bucket = (bucketId: string, prefix: string) =>
      new s3.Bucket(this, bucketId, {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        versioned: true,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: prefix,
        removalPolicy,
      });
    this.auditBucket = bucket('AuditBucket', 'audit/');
    this.recordingsBucket = bucket('RecordingsBucket', 'recordings/');
  }
}
