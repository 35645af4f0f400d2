// Who the agent is in IAM, asked of STS once at start (GetCallerIdentity needs no permission): on
// Fargate an assumed-role session of the task role. Health fixes name the role ARN, since an EKS
// access entry maps the role, never one session of it.
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { awsCallerFromArn } from '../../core/aws-caller.js';
import { KubeportError } from '../../core/errors.js';

export interface CallerRole {
  /** The caller's ARN as STS answers it (arn:aws:sts::…:assumed-role/NAME/SESSION on Fargate). */
  arn: string;
  /** The principal an access entry names: the role of a session (arn:aws:iam::…:role/NAME), else the ARN itself. */
  principalArn: string;
  account: string;
}

export async function callerRole(client: STSClient): Promise<CallerRole> {
  let arn: string | undefined;
  try {
    ({ Arn: arn } = await client.send(new GetCallerIdentityCommand({})));
  } catch (error) {
    const name = error instanceof Error ? error.name : 'UnknownError';
    throw new KubeportError(
      'unavailable',
      `STS GetCallerIdentity failed (${name}), so the agent does not know its IAM role; check the task role's credentials and the network path to STS`,
      { cause: error },
    );
  }
  if (arn === undefined) throw new KubeportError('bad_gateway', 'STS GetCallerIdentity answered without an ARN; retry');
  const caller = awsCallerFromArn(arn);
  return { arn, principalArn: caller.principal, account: caller.account };
}
