// One of Kubeport's Lambda functions, built the same way for all of them: the esbuild bundle the
// tests and benchmarks run (lambda-bundles.ts), ARM64 on Node 22, its own log group with a
// retention, a role that may write only to that log group until the stack grants more, and,
// when asked, a reserved concurrency.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type LambdaName, lambdaEntryPath, nodejsBundling } from './lambda-bundles.js';

export interface KubeportFunctionProps {
  /** Which composition root to bundle (lib/app/functions). */
  readonly name: LambdaName;
  /** What the function is for, shown in the console. */
  readonly description: string;
  /**
   * Its environment, typed by the caller against lib/adapters/aws/function-environment.ts.
   * Names and ARNs only: no secret ever goes here (the GitHub client secret is read from Secrets Manager).
   * @default no variables
   */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /**
   * The role the function runs as; the caller grants it what the function needs.
   * @default a new role for Lambda that may only write its own log group
   */
  readonly role?: iam.Role;
  /**
   * Memory in MB; Lambda gives CPU in proportion, so this is also how fast cold starts and signing run.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * At most this long per call. API Gateway gives up after 30 s, so an API function's timeout stays below that.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Executions reserved for this function: the most calls running at once, and executions no
   * other function can take. Each reserved one lowers the account's unreserved pool, which Lambda
   * keeps at 100 or more, so reserving fails to deploy in an account whose limit is lower.
   * @default none reserved: the function shares the account's pool
   */
  readonly reservedConcurrency?: number;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class KubeportFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: KubeportFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.role = props.role ?? lambdaRole(this, 'Role');
    // In place of the AWSLambdaBasicExecutionRole managed policy, which may write to every log group.
    this.logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      description: props.description,
      entry: lambdaEntryPath(props.name),
      handler: 'handler',
      bundling: nodejsBundling(),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      reservedConcurrentExecutions: props.reservedConcurrency,
      role: this.role,
      logGroup: this.logGroup,
      environment: definedOnly(props.environment ?? {}),
    });
    // The role's policy must exist before the function is invoked (the CA bootstrap is, at deploy).
    this.function.node.addDependency(this.role);
  }
}

/** A role Lambda may assume, with no permission yet. */
export function lambdaRole(scope: Construct, id: string): iam.Role {
  return new iam.Role(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
}

function definedOnly(environment: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
