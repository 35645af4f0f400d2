// A cluster in another account: the agent's task role assumes the role the source names, and the
// token signed with that session names the other account's role, as its access entry expects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assumedRoleCredentials } from '../../lib/adapters/aws/assumed-role-credentials.js';
import { EksTokenSource } from '../../lib/adapters/aws/eks-token.js';
import { AGENT_TASK_ROLE, startStsStandIn, type StsStandIn } from '../support/sts-stand-in.js';

const taskRole = AGENT_TASK_ROLE;
const targetRole = 'arn:aws:iam::444455556666:role/kubeport-eks-access';
// The SDK's STS client signs with the real time, so the stand-in keeps the real time and the
// provider's injected clock starts from it.
const start = new Date();
let now = start;
const clock = { now: () => now };
let sts: StsStandIn;

beforeAll(async () => {
  sts = await startStsStandIn({
    region: 'eu-west-1',
    identities: [taskRole],
    now: () => new Date(),
    trusts: { [targetRole]: ['arn:aws:iam::111122223333:role/kubeport-agent'] },
  });
});
afterAll(() => sts.close());

const provider = (roleArn: string) =>
  assumedRoleCredentials({
    roleArn,
    sessionName: 'kubeport-agent',
    region: 'eu-west-1',
    clock,
    stsEndpoint: sts.url,
    credentials: () => Promise.resolve(taskRole),
  });

describe('assumed-role credentials for a cluster in another account', () => {
  it('signs tokens as the assumed role, which the authenticator maps back to the role ARN', async () => {
    now = start;
    const tokens = new EksTokenSource({
      clusterName: 'partner',
      region: 'eu-west-1',
      clock,
      stsEndpoint: sts.url,
      credentials: provider(targetRole),
    });
    expect(sts.verifyEksToken(await tokens.token(), 'partner')).toMatchObject({
      arn: 'arn:aws:sts::444455556666:assumed-role/kubeport-eks-access/kubeport-agent',
      principalArn: targetRole,
      accountId: '444455556666',
    });
  });

  it('reuses one session until shortly before it expires, and assumes the role again after', async () => {
    now = start;
    const credentials = provider(targetRole);
    const [first, second] = await Promise.all([credentials(), credentials()]);
    expect(second).toBe(first);
    now = new Date(start.getTime() + 40 * 60_000);
    expect(await credentials()).toBe(first);
    now = new Date(start.getTime() + 46 * 60_000);
    expect((await credentials()).accessKeyId).not.toBe(first.accessKeyId);
  });

  it('refuses a role whose trust policy does not name the agent, saying what to fix', async () => {
    now = start;
    await expect(provider('arn:aws:iam::444455556666:role/someone-else')()).rejects.toThrow(
      /could not assume arn:aws:iam::444455556666:role\/someone-else: User: .* is not authorized to perform: sts:AssumeRole.*trust policy/,
    );
  });
});
