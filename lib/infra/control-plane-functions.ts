// The three functions of the control plane and what each may do. Least privilege, spelled out:
// only the auth function and the CA bootstrap may sign with the CA keys (the key policies deny
// everyone else, and the admin role denies itself kms:Sign besides); the GitHub client secret is
// readable by the auth function alone and never leaves Secrets Manager for the template.
// The CA bootstrap keeps kms:Sign for good, not only for the first deploy: its custom resource
// runs again on every change of its bundle, and creates (signs) any CA missing from the table, as
// after a restore; a grant dropped after the first run would fail that deploy instead.
import { Aws, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { AdminEnvironment, AuthEnvironment, CaBootstrapEnvironment } from '../adapters/aws/function-environment.js';
import { grantCaKeyCreation } from './ca-key-grants.js';
import { CertificateAuthorities } from './certificate-authorities.js';
import { KubeportFunction, lambdaRole } from './kubeport-function.js';
import type { Storage } from './storage.js';

export interface ControlPlaneFunctionsProps {
  readonly storage: Storage;
  /** Kubeport's cluster name: the certificates' audience, what tsh shows. */
  readonly clusterName: string;
  /**
   * Reported by ping.
   * @default 'dev'
   */
  readonly serverVersion?: string;
  /**
   * The Secrets Manager secret (by name) holding the GitHub OAuth app's client secret.
   * @default none: no GitHub login until a connector is created with tctl
   */
  readonly githubClientSecretName?: string;
  /**
   * The GitHub OAuth app's client ID: the only one a connector taking the deployment's secret may name.
   * @default none: no connector may take the deployment's secret
   */
  readonly githubClientId?: string;
  /**
   * The `org/team` slugs the first connector maps to editor and access (the CA bootstrap writes it).
   * @default none: no deploy-time connector
   */
  readonly githubAdminTeams?: readonly string[];
  /**
   * Names this deployment in the description of every CA key, rotated ones included (a label
   * only, as `kubeport:ca=<value>`: CA keys carry no tags, and no grant depends on it).
   * @default the stack's name
   */
  readonly caKeyTag?: string;
  /**
   * How long function logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Reserve concurrency: auth 10, admin 5, the CA bootstrap 1 (the account's limit must then be
   * 116 or more, as Lambda keeps 100 unreserved).
   * @default false: the API's per-route throttling bounds the cost of a flood
   */
  readonly reservedConcurrency?: boolean;
  /**
   * What happens to the log groups and the secrets key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The stack's agent: its task role (only its sessions get the agent's certificate) and the names
   * the certificate carries (the NLB's or agentDomainName). Also settable later, once the agent's
   * role exists: {@link setAgentHostCert}.
   * @default none: POST /webapi/iam/host-cert answers 404
   */
  readonly agentHostCert?: AgentHostCertProps;
}

/** What the auth function needs to issue the agent's certificate. */
export interface AgentHostCertProps {
  /** The agent's task role ARN (a token is fine). */
  readonly roleArn: string;
  /** The certificate's SANs, exactly: DNS names or IPs (tokens are fine). */
  readonly hostNames: readonly string[];
}

export class ControlPlaneFunctions extends Construct {
  readonly auth: KubeportFunction;
  readonly admin: KubeportFunction;
  readonly caBootstrap: KubeportFunction;
  readonly certificateAuthorities: CertificateAuthorities;
  /** Seals TOTP seeds and connector secrets at rest (the SecretBox). */
  readonly secretsKey: kms.Key;
  readonly caKeyTag: string;

  constructor(scope: Construct, id: string, props: ControlPlaneFunctionsProps) {
    super(scope, id);
    const { storage } = props;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.caKeyTag = props.caKeyTag ?? Stack.of(this).stackName;

    // The roles come first: the CA key policies name the signers.
    const authRole = lambdaRole(this, 'AuthRole');
    const adminRole = lambdaRole(this, 'AdminRole');
    const caBootstrapRole = lambdaRole(this, 'CaBootstrapRole');
    this.certificateAuthorities = new CertificateAuthorities(this, 'CertificateAuthorities', {
      signers: [authRole, caBootstrapRole],
      readers: [adminRole],
      keyTag: this.caKeyTag,
    });
    this.secretsKey = new kms.Key(this, 'SecretsKey', {
      description: 'Kubeport: seals TOTP seeds and connector secrets stored in DynamoDB',
      enableKeyRotation: true,
      // What it sealed stays in the tables, which outlive the stack by default.
      removalPolicy,
    });

    const cas = this.certificateAuthorities;
    const common = {
      KUBEPORT_CLUSTER_NAME: props.clusterName,
      KUBEPORT_RESOURCES_TABLE: storage.resources.tableName,
      KUBEPORT_STATE_TABLE: storage.state.tableName,
      KUBEPORT_AUDIT_TABLE: storage.audit.tableName,
      KUBEPORT_SECRETS_KEY_ID: this.secretsKey.keyArn,
      // The agent (next issue) sets its address; until then ping reports none.
      KUBEPORT_AGENT_ADDRESS: '',
      KUBEPORT_SERVER_VERSION: props.serverVersion ?? 'dev',
      KUBEPORT_GITHUB_CLIENT_ID: props.githubClientId,
    };
    const authEnvironment: AuthEnvironment = {
      ...common,
      KUBEPORT_GITHUB_SECRET_NAME: props.githubClientSecretName,
      // The rotated keys' policy names the same roles as the deploy-time keys' (CertificateAuthorities).
      KUBEPORT_CA_SIGNER_ROLE_ARNS: Fn.join(',', [authRole.roleArn, caBootstrapRole.roleArn]),
      KUBEPORT_CA_READER_ROLE_ARNS: adminRole.roleArn,
      KUBEPORT_CA_KEY_TAG: this.caKeyTag,
    };
    const adminEnvironment: AdminEnvironment = { ...common, KUBEPORT_RECORDINGS_BUCKET: storage.recordingsBucket.bucketName };
    const caBootstrapEnvironment: CaBootstrapEnvironment = {
      KUBEPORT_CLUSTER_NAME: props.clusterName,
      KUBEPORT_RESOURCES_TABLE: storage.resources.tableName,
      KUBEPORT_AUDIT_TABLE: storage.audit.tableName,
      KUBEPORT_USER_CA_KEY_ID: cas.userCaKey.keyArn,
      KUBEPORT_HOST_CA_KEY_ID: cas.hostCaKey.keyArn,
      // The function checks each event comes from its own stack, and takes the GitHub settings from
      // here, never from the event: anyone who may invoke it can send any event.
      KUBEPORT_STACK_ID: Aws.STACK_ID,
      KUBEPORT_GITHUB_CLIENT_ID: props.githubAdminTeams ? props.githubClientId : undefined,
      KUBEPORT_GITHUB_ADMIN_TEAMS: props.githubAdminTeams?.join(','),
    };
    const logs = { logRetention: props.logRetention, logRemovalPolicy: removalPolicy };
    const reserve = (executions: number) => (props.reservedConcurrency ? { reservedConcurrency: executions } : {});

    this.auth = new KubeportFunction(this, 'Auth', {
      name: 'auth',
      description: 'Kubeport auth: ping, GitHub and local logins, certificates, CA rotation',
      role: authRole,
      environment: authEnvironment,
      // A login is a few DynamoDB calls, one KMS Sign and, for GitHub, three or more calls to
      // GitHub: I/O-bound, so 512 MB (a third of a vCPU) keeps cold starts short without paying for idle CPU.
      memorySize: 512,
      // The GitHub callback pages through the user's teams; API Gateway stops waiting at 30 s.
      timeout: Duration.seconds(20),
      // When reserved: 10 at once is ~50 logins a second at 200 ms each, far under KMS's 300 ECC
      // signs a second.
      ...reserve(10),
      ...logs,
    });
    this.admin = new KubeportFunction(this, 'Admin', {
      name: 'admin',
      description: 'Kubeport admin: the tctl API, audit search, session recordings',
      role: adminRole,
      environment: adminEnvironment,
      // Audit search decodes pages of events and recordings stream through: more memory than auth.
      memorySize: 512,
      // A wide audit search may page through many items; just under API Gateway's 30 s.
      timeout: Duration.seconds(29),
      // tctl is a few administrators' tool; reserved, a flood of logins never takes its executions.
      ...reserve(5),
      ...logs,
    });
    this.caBootstrap = new KubeportFunction(this, 'CaBootstrap', {
      name: 'caBootstrap',
      description: 'Kubeport CA bootstrap (custom resource): CA certificates and the first GitHub connector',
      role: caBootstrapRole,
      environment: caBootstrapEnvironment,
      memorySize: 256,
      // Two KMS signatures and a few writes, then the answer to CloudFormation; generous, as a
      // custom resource that never answers holds the deploy for an hour.
      timeout: Duration.minutes(2),
      // CloudFormation calls it once per deploy.
      ...reserve(1),
      ...logs,
    });

    // CA keys: their key policies grant the roles all they do with them (CertificateAuthorities,
    // and KmsSigningKeys for rotated keys); IAM only lets the auth function create them, to rotate.
    grantCaKeyCreation(authRole);
    // The admin function verifies signed calls: it reads the CA public keys, and may never sign.
    adminRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'AdminNeverSigns', effect: iam.Effect.DENY, actions: ['kms:Sign'], resources: ['*'] }),
    );

    // The SecretBox key: sealing and opening only (no data keys, no re-encryption). The CA
    // bootstrap seals nothing (the deployment connector's secret stays in Secrets Manager).
    for (const role of [authRole, adminRole]) this.secretsKey.grant(role, 'kms:Encrypt', 'kms:Decrypt');

    // Tables. The audit table is append-only for every function: DynamoAuditLog.emit is one
    // PutItem, search is Query (on the table and its indexes); no role may update, delete or
    // batch-write (the batched writer is the agent's, not the functions').
    grantTables(authRole, { readWrite: [storage.resources, storage.state] });
    grantTables(adminRole, { readWrite: [storage.resources, storage.state] });
    grantTables(caBootstrapRole, { readWrite: [storage.resources] });
    for (const role of [authRole, adminRole, caBootstrapRole]) grantAuditAppend(role, storage.audit);
    grantAuditSearch(adminRole, storage.audit);

    // Recordings: the admin function plays them back (the agent writes them).
    grantReadPrefix(adminRole, storage.recordingsBucket, 'sessions/');

    if (props.githubClientSecretName !== undefined) {
      // By name: its ARN ends in a random suffix, which fromSecretNameV2's ARN pattern allows for.
      const secret = secretsmanager.Secret.fromSecretNameV2(this, 'GitHubClientSecret', props.githubClientSecretName);
      secret.grantRead(authRole);
    }
    if (props.agentHostCert) setAgentHostCert(this, props.agentHostCert);
  }
}

/**
 * Tells the CA bootstrap the GitHub callback URL of the API, which is built after the functions
 * (the API needs them). The bootstrap function is no part of the API, so the reference makes no cycle.
 */
/** Gives the auth function the agent's role and names, so POST /webapi/iam/host-cert issues the agent's certificate. */
export function setAgentHostCert(functions: ControlPlaneFunctions, agent: AgentHostCertProps): void {
  if (agent.hostNames.length === 0) throw new Error('setAgentHostCert: the agent certificate needs at least one host name');
  const variables: Required<Pick<AuthEnvironment, 'KUBEPORT_AGENT_ROLE_ARN' | 'KUBEPORT_AGENT_HOST_NAMES'>> = {
    KUBEPORT_AGENT_ROLE_ARN: agent.roleArn,
    KUBEPORT_AGENT_HOST_NAMES: Fn.join(',', [...agent.hostNames]),
  };
  for (const [name, value] of Object.entries(variables)) functions.auth.function.addEnvironment(name, value);
}

export function setGitHubCallbackUrl(functions: ControlPlaneFunctions, callbackUrl: string): void {
  const variable: Required<Pick<CaBootstrapEnvironment, 'KUBEPORT_GITHUB_CALLBACK_URL'>> = { KUBEPORT_GITHUB_CALLBACK_URL: callbackUrl };
  for (const [name, value] of Object.entries(variable)) functions.caBootstrap.function.addEnvironment(name, value);
}

function grantTables(role: iam.IRole, tables: { readWrite: dynamodb.ITable[] }): void {
  for (const table of tables.readWrite) table.grantReadWriteData(role);
}

/** Adding audit events, one PutItem each, and nothing that could change or remove one. */
function grantAuditAppend(role: iam.IRole, audit: dynamodb.ITable): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [audit.tableArn] }));
}

/** Searching audit events: Query on the table and its indexes (by user, session, type, namespace). */
function grantAuditSearch(role: iam.IRole, audit: dynamodb.ITable): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [audit.tableArn, `${audit.tableArn}/index/*`] }),
  );
}

/** Get and list objects under one key prefix of a bucket. */
function grantReadPrefix(role: iam.IRole, bucket: s3.IBucket, prefix: string): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${prefix}*`)] }));
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
    }),
  );
}
