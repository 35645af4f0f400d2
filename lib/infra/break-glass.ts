// Break-glass administration that does not depend on GitHub: tctl signs its calls with the
// caller's AWS credentials (SigV4) on the IAM-authorized admin route, and API Gateway lets
// through only principals allowed execute-api:Invoke on it. This managed policy is that
// permission, to attach to the few roles or users who may use it; the admin function audits
// their calls like every admin call.
import { Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface BreakGlassProps {
  readonly api: apigw.HttpApi;
  /** The IAM-authorized route's path with `*` for its greedy part, e.g. /webapi/iam/admin/*. */
  readonly routePath: string;
  /**
   * The managed policy's name.
   * @default `${stackName}BreakGlass` (KubeportBreakGlass for the default stack, the name tctl --aws-iam mentions); per stack, as managed policy names are unique in an account
   */
  readonly policyName?: string;
}

export class BreakGlass extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: BreakGlassProps) {
    super(scope, id);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: props.policyName ?? `${Stack.of(this).stackName}BreakGlass`,
      description: 'Kubeport break-glass: tctl with AWS credentials (SigV4) on the IAM-authorized admin route, and nothing else',
      statements: [
        new iam.PolicyStatement({
          sid: 'InvokeBreakGlassAdminRoute',
          actions: ['execute-api:Invoke'],
          // Any method, this route's paths only (not the other IAM routes such as the agent's host-cert).
          resources: [props.api.arnForExecuteApi('ANY', props.routePath)],
        }),
      ],
    });
  }
}
