// The Glue database and table over the audit archive, so Athena can query every event ever
// archived. The dt partitions are projected from the key layout (events/dt=YYYY-MM-DD/), so no
// crawler runs and nothing has to add partitions as days pass.
import { Aws, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARCHIVE_PREFIX } from '../adapters/aws/s3-audit-archive.js';

/**
 * The columns of an archived event (lib/adapters/aws/s3-audit-archive.ts). A name the SerDe
 * cannot take as is (addr.remote) is mapped from the JSON field in AUDIT_FIELD_MAPPING.
 */
export const AUDIT_COLUMNS: readonly { name: string; type: string }[] = [
  { name: 'event', type: 'string' },
  { name: 'code', type: 'string' },
  { name: 'time', type: 'string' },
  { name: 'uid', type: 'string' },
  { name: 'user', type: 'string' },
  { name: 'success', type: 'boolean' },
  { name: 'sid', type: 'string' },
  { name: 'audit_id', type: 'string' },
  { name: 'kubernetes_cluster', type: 'string' },
  { name: 'verb', type: 'string' },
  { name: 'request_path', type: 'string' },
  { name: 'resource_api_group', type: 'string' },
  { name: 'resource_kind', type: 'string' },
  { name: 'resource_namespace', type: 'string' },
  { name: 'resource_name', type: 'string' },
  { name: 'response_code', type: 'int' },
  { name: 'kubernetes_pod_namespace', type: 'string' },
  { name: 'kubernetes_pod_name', type: 'string' },
  { name: 'command', type: 'array<string>' },
  { name: 'user_roles', type: 'array<string>' },
  { name: 'kubernetes_users', type: 'array<string>' },
  { name: 'kubernetes_groups', type: 'array<string>' },
  { name: 'user_agent', type: 'string' },
  { name: 'truncated', type: 'boolean' },
  { name: 'addr_remote', type: 'string' },
];

/** Column → JSON field, for fields whose names are not valid column names. */
export const AUDIT_FIELD_MAPPING: Readonly<Record<string, string>> = { addr_remote: 'addr.remote' };

export interface AuditCatalogProps {
  /** The audit archive bucket (objects under events/dt=YYYY-MM-DD/). */
  readonly bucket: s3.IBucket;
  /**
   * The first day partition projection offers; queries name days from then to today.
   * @default '2024-01-01'
   */
  readonly firstDay?: string;
}

export class AuditCatalog extends Construct {
  readonly database: glue.CfnDatabase;
  readonly table: glue.CfnTable;
  readonly databaseName: string;
  readonly tableName = 'audit_events';

  constructor(scope: Construct, id: string, props: AuditCatalogProps) {
    super(scope, id);
    // Glue names: lowercase letters, digits and underscores.
    this.databaseName = `${toGlueName(Stack.of(this).stackName)}_audit`;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'Kubeport audit events archived in S3' },
    });
    const location = `s3://${props.bucket.bucketName}/${ARCHIVE_PREFIX}`;
    this.table = new glue.CfnTable(this, 'Events', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: this.tableName,
        description: 'One row per audit event; gzip JSON lines, one object per day and batch',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [{ name: 'dt', type: 'string' }],
        parameters: {
          classification: 'json',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${props.firstDay ?? '2024-01-01'},NOW`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'storage.location.template': `${location}dt=\${dt}/`,
        },
        storageDescriptor: {
          location,
          columns: AUDIT_COLUMNS.map((column) => ({ name: column.name, type: column.type })),
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            parameters: {
              // A line that is not an event is skipped, not a failed query.
              'ignore.malformed.json': 'true',
              ...Object.fromEntries(Object.entries(AUDIT_FIELD_MAPPING).map(([column, field]) => [`mapping.${column}`, field])),
            },
          },
        },
      },
    });
    this.table.addResourceDependency(this.database);
  }
}

function toGlueName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}
