// Kubeport on AWS, one stack: the tables and buckets, the CA keys, the auth and admin functions
// behind the HTTP API, the CA bootstrap, the audit catalog, alarms and the break-glass policy.
// With `clusters` in the context, the agent too (kubeport-agent.ts): Fargate in the clusters' VPC,
// access entries in each cluster. Environment-agnostic (no lookups), so `cdk synth` needs no AWS
// account.
import { Aws, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AuditCatalog } from './audit-catalog.js';
import { BreakGlass } from './break-glass.js';
import { CaBootstrap } from './ca-bootstrap.js';
import { ControlPlaneAlarms } from './control-plane-alarms.js';
import { BREAK_GLASS_ROUTE, ControlPlaneApi } from './control-plane-api.js';
import { ControlPlaneFunctions, setAgentHostCert, setGitHubCallbackUrl } from './control-plane-functions.js';
import { KubeportAgent } from './kubeport-agent.js';
import { suppressJustifiedFindings } from './nag-suppressions.js';
import type { AgentContext, AuditLockMode, GitHubContext } from './stack-context.js';
import { Storage } from './storage.js';

export interface KubeportStackProps extends StackProps {
  /**
   * Keep tables, buckets, keys and logs when the stack is deleted, and protect the tables from deletion.
   * @default true
   */
  readonly retainData?: boolean;
  /**
   * Kubeport's cluster name, shown by tsh and written in every certificate.
   * @default the stack's name
   */
  readonly clusterName?: string;
  /**
   * The version ping reports.
   * @default 'dev'
   */
  readonly serverVersion?: string;
  /**
   * The GitHub OAuth app and the admin teams for the connector created at deploy.
   * @default no GitHub login until a connector is created with tctl
   */
  readonly github?: GitHubContext;
  /**
   * Who is emailed when an alarm fires.
   * @default alarms only show in the CloudWatch console
   */
  readonly alarmEmail?: string;
  /**
   * Reserve Lambda concurrency: auth 10, admin 5, the CA bootstrap 1. It caps each function and
   * keeps a flood of one from taking the others' executions, but the account's concurrency limit
   * must then be 116 or more (Lambda keeps 100 unreserved), which new accounts often are not.
   * @default false: the API's per-route throttling alone bounds what a flood costs
   */
  readonly reservedConcurrency?: boolean;
  /**
   * The audit archive's Object Lock mode. Governance lets a principal with
   * s3:BypassGovernanceRetention delete archived events early (and `retainData: false` tear the
   * bucket down); compliance lets no one, the root user included, until the retention ends.
   * @default 'governance'
   */
  readonly auditLockMode?: AuditLockMode;
  /**
   * The agent: the EKS clusters it serves, its network, topology and capacity.
   * @default no agent
   */
  readonly agent?: AgentContext;
}

/** The callback URL to register in the GitHub OAuth app. */
export const GITHUB_CALLBACK_PATH = '/webapi/github/callback';

export class KubeportStack extends Stack {
  readonly storage: Storage;
  readonly functions: ControlPlaneFunctions;
  readonly api: ControlPlaneApi;
  readonly caBootstrap: CaBootstrap;
  readonly auditCatalog: AuditCatalog;
  readonly alarms: ControlPlaneAlarms;
  readonly breakGlass: BreakGlass;
  readonly agent?: AgentContext;
  readonly agentDeployment?: KubeportAgent;

  constructor(scope: Construct, id: string, props: KubeportStackProps = {}) {
    super(scope, id, props);
    const retain = props.retainData ?? true;
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.agent = props.agent;

    this.storage = new Storage(this, 'Storage', { retain, auditLockMode: props.auditLockMode });
    this.functions = new ControlPlaneFunctions(this, 'Functions', {
      storage: this.storage,
      clusterName: props.clusterName ?? this.stackName,
      serverVersion: props.serverVersion,
      githubClientSecretName: props.github?.clientSecretName,
      reservedConcurrency: props.reservedConcurrency,
      githubClientId: props.github?.clientId,
      githubAdminTeams: props.github?.adminTeams,
      removalPolicy,
    });
    this.api = new ControlPlaneApi(this, 'Api', {
      authFunction: this.functions.auth.function,
      adminFunction: this.functions.admin.function,
      logRemovalPolicy: removalPolicy,
      // The agent takes its TLS certificate from POST /webapi/iam/host-cert, signed with its task role.
      agentHostCert: props.agent !== undefined,
    });
    const callbackUrl = `${this.api.url}${GITHUB_CALLBACK_PATH}`;
    if (props.github) setGitHubCallbackUrl(this.functions, callbackUrl);
    this.caBootstrap = new CaBootstrap(this, 'CaBootstrap', {
      handler: this.functions.caBootstrap.function,
      github: props.github,
      callbackUrl,
    });
    // The CA certificates and the connector are written to the tables; they must exist first.
    this.caBootstrap.node.addDependency(this.storage);
    this.auditCatalog = new AuditCatalog(this, 'AuditCatalog', { bucket: this.storage.auditBucket });
    this.alarms = new ControlPlaneAlarms(this, 'Alarms', {
      api: this.api.api,
      functions: { Auth: this.functions.auth.function, Admin: this.functions.admin.function },
      email: props.alarmEmail,
    });
    this.breakGlass = new BreakGlass(this, 'BreakGlass', { api: this.api.api, routePath: BREAK_GLASS_ROUTE.path.replace('{proxy+}', '*') });

    if (props.agent) {
      this.agentDeployment = new KubeportAgent(this, 'Agent', {
        agent: props.agent,
        storage: this.storage,
        clusterName: props.clusterName ?? this.stackName,
        apiUrl: this.api.url,
        removalPolicy,
      });
      const { address, taskRole, service } = this.agentDeployment;
      // Ping tells tsh where the agent is; the host-cert route issues only to its role, for its names.
      for (const fn of [this.functions.auth.function, this.functions.admin.function]) fn.addEnvironment('KUBEPORT_AGENT_ADDRESS', address);
      setAgentHostCert(this.functions, { roleArn: taskRole.role.roleArn, hostNames: service.hostNames });
      this.api.grantAgentHostCert(taskRole.role);
      new CfnOutput(this, 'AgentAddress', { description: 'Where tsh and kubectl reach the agent', value: address });
      new CfnOutput(this, 'AgentRoleArn', {
        description: "The agent's IAM role: each cluster's access entry maps it to the impersonator group",
        value: taskRole.role.roleArn,
      });
    }

    const host = `${this.api.api.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`;
    new CfnOutput(this, 'ApiUrl', { description: 'The Kubeport API', value: this.api.url });
    new CfnOutput(this, 'GitHubCallbackUrl', {
      description: "Paste into the GitHub OAuth app's Authorization callback URL",
      value: callbackUrl,
    });
    new CfnOutput(this, 'BreakGlassPolicyArn', {
      description: 'Attach to the roles that may run tctl with AWS credentials when GitHub is unavailable',
      value: this.breakGlass.policy.managedPolicyArn,
    });
    new CfnOutput(this, 'TshLogin', { description: 'Log in', value: `tsh login --proxy=${host}` });

    suppressJustifiedFindings(this);
  }
}
