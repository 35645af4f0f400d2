// The agent's own role, from the real STS client against the STS stand-in: a task role session
// becomes the role ARN an access entry names; a caller STS does not know gets one line.
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerRole } from '../../../lib/adapters/aws/caller-role.js';
import { AGENT_TASK_ROLE, startStsStandIn, type StsStandIn } from '../../support/sts-stand-in.js';

let sts: StsStandIn;
beforeAll(async () => {
  sts = await startStsStandIn({ region: 'eu-west-1', identities: [AGENT_TASK_ROLE], now: () => new Date() });
});
afterAll(() => sts.close());

const client = (secretAccessKey: string) =>
  new STSClient({
    region: 'eu-west-1',
    endpoint: sts.url,
    credentials: { accessKeyId: AGENT_TASK_ROLE.accessKeyId, secretAccessKey, sessionToken: AGENT_TASK_ROLE.sessionToken },
  });

describe('callerRole', () => {
  it('turns the task role session into the role ARN', async () => {
    expect(await callerRole(client(AGENT_TASK_ROLE.secretAccessKey))).toEqual({
      arn: AGENT_TASK_ROLE.arn,
      principalArn: 'arn:aws:iam::111122223333:role/kubeport-agent',
      account: '111122223333',
    });
  });

  it('says in one line what failed, without the secret', async () => {
    const error = (await callerRole(client('a-wrong-secret-value')).then(
      () => new Error('resolved'),
      (e: unknown) => e,
    )) as Error;
    expect(error.message).toMatch(/^STS GetCallerIdentity failed \(SignatureDoesNotMatch\), .*check the task role's credentials/);
    expect(error.message).not.toContain('a-wrong-secret-value');
    expect(error.message).not.toContain('\n');
  });
});
