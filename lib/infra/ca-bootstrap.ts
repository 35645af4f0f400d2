// The CA bootstrap: a custom resource whose handler is a Kubeport function itself (no Provider
// framework, so no extra framework Lambda and its log group). At the first deploy it creates the
// user and host CA certificates over the KMS keys and, when GitHub is configured, the first
// connector mapping the admin teams to editor and access; later deploys never replace a CA.
import { createHash } from 'node:crypto';
import { CustomResource } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { GitHubContext } from './stack-context.js';

/** The custom resource's type, as CloudFormation shows it. */
export const CA_BOOTSTRAP_RESOURCE_TYPE = 'Custom::KubeportCaBootstrap';

export interface CaBootstrapProps {
  /** The CA bootstrap function (lambdaEntryPath('caBootstrap')); CloudFormation invokes it directly. */
  readonly handler: lambda.IFunction;
  /**
   * The GitHub OAuth app and the teams that administer Kubeport, for the first connector.
   * @default no connector: local users only until one is created with tctl
   */
  readonly github?: GitHubContext;
  /** Where GitHub sends the browser back: `${api}/webapi/github/callback` (a trigger here; the function reads it from its environment). */
  readonly callbackUrl: string;
  /**
   * Changes whenever the handler should run again on an update (a new function bundle does).
   * @default the function bundle's asset hash
   */
  readonly version?: string;
}

export class CaBootstrap extends Construct {
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: CaBootstrapProps) {
    super(scope, id);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: props.handler.functionArn,
      resourceType: CA_BOOTSTRAP_RESOURCE_TYPE,
      // Triggers only: a change of any makes CloudFormation run the bootstrap again. The function
      // reads what it writes from its environment (set by the stack), never from these, since
      // anyone who may invoke it can send an event with any properties.
      properties: {
        Version: props.version ?? bundleHash(props.handler),
        CallbackUrl: props.callbackUrl,
        GitHubSettings: props.github ? settingsDigest(props.github) : 'none',
      },
    });
    this.resource.node.addDependency(props.handler);
  }
}

/** Changes with the client ID or the admin teams, and shows neither. */
function settingsDigest(github: GitHubContext): string {
  return createHash('sha256')
    .update(JSON.stringify([github.clientId, github.adminTeams]))
    .digest('hex')
    .slice(0, 16);
}

/** The S3 key of the function's code asset: the bundle's content hash. */
function bundleHash(handler: lambda.IFunction): string {
  const code = (handler.node.defaultChild as lambda.CfnFunction | undefined)?.code as lambda.CfnFunction.CodeProperty | undefined;
  const key = code?.s3Key;
  if (typeof key !== 'string') throw new Error(`cannot read the code asset of ${handler.node.path}; pass version explicitly`);
  return key.replace(/\.zip$/, '');
}
