import { describe, expect, it } from 'vitest';
import { StackContextError, parseStackContext } from '../../lib/infra/stack-context.js';

const parse = (context: Record<string, unknown>, keys: string[] = Object.keys(context)) => parseStackContext((key) => context[key], keys);

function problemsOf(context: Record<string, unknown>, keys?: string[]): string[] {
  try {
    parse(context, keys);
  } catch (error) {
    if (error instanceof StackContextError) return error.problems;
    throw error;
  }
  throw new Error('the context was accepted');
}

const github = {
  githubClientId: 'Ov23liAbCdEf',
  githubClientSecretName: 'kubeport/github-client-secret',
  githubAdminTeams: 'acme/platform,acme/sre',
};
const agent = {
  clusters: 'prod',
  vpcId: 'vpc-0123456789abcdef0',
  publicSubnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  agentDomainName: 'kube.example.com',
};

describe('CDK context', () => {
  const defaults = { stackName: 'Kubeport', retainData: true, reservedConcurrency: false, auditLockMode: 'governance' };

  it('gives the defaults when nothing is set: stack Kubeport, data retained, no reserved concurrency, governance lock, no GitHub, no agent', () => {
    expect(parse({})).toEqual(defaults);
  });

  it('reserves concurrency and locks the archive in compliance mode only when asked, and names a bad value with its fix', () => {
    expect(parse({ reservedConcurrency: 'true', auditLockMode: 'compliance' })).toMatchObject({
      reservedConcurrency: true,
      auditLockMode: 'compliance',
    });
    expect(parse({ reservedConcurrency: true })).toMatchObject({ reservedConcurrency: true });
    const problems = problemsOf({ reservedConcurrency: '10', auditLockMode: 'strict' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['reservedConcurrency', 'auditLockMode']);
    expect(problems[0]).toMatch(/give true or false/);
    expect(problems[1]).toMatch(/governance .*compliance/);
  });

  it('reads -c strings and cdk.json JSON alike', () => {
    const fromCommandLine = parse({ ...github, ...agent, retainData: 'false', clusterSecurityGroupIds: 'sg-0123456789abcdef0' });
    const fromCdkJson = parse({
      ...github,
      ...agent,
      githubAdminTeams: ['acme/platform', 'acme/sre'],
      clusters: ['prod'],
      publicSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      clusterSecurityGroupIds: ['sg-0123456789abcdef0'],
      retainData: false,
    });
    expect(fromCommandLine).toEqual(fromCdkJson);
    expect(fromCdkJson).toMatchObject({
      retainData: false,
      github: { clientId: 'Ov23liAbCdEf', clientSecretName: 'kubeport/github-client-secret', adminTeams: ['acme/platform', 'acme/sre'] },
      agent: { clusters: ['prod'], topology: 'economy', hostedZoneId: 'Z0123456789ABCDEFGHIJ', domainName: 'kube.example.com' },
    });
  });

  it('takes a list given as a JSON array string, and trims spaces around entries', () => {
    expect(parse({ ...github, githubAdminTeams: '["acme/platform"]' }).github?.adminTeams).toEqual(['acme/platform']);
    expect(parse({ ...github, githubAdminTeams: ' acme/platform , acme/sre ' }).github?.adminTeams).toEqual(['acme/platform', 'acme/sre']);
  });

  it('treats an empty -c key= as not set', () => {
    expect(parse({ githubClientId: '', alarmEmail: ' ' })).toEqual(defaults);
  });

  it('refuses admin teams without the OAuth app, saying that all three GitHub keys are needed and how to set them', () => {
    const [problem, ...rest] = problemsOf({ githubAdminTeams: 'acme/platform' });
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^githubClientId, githubClientSecretName: missing; githubAdminTeams is given/);
    expect(problem).toContain('-c githubClientId=');
    expect(problem).toContain('-c githubClientSecretName=');
  });

  it.each([
    ['githubClientId', { githubClientId: 'has spaces' }, /client ID/],
    [
      'githubClientSecretName',
      { githubClientSecretName: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gh-AbCdEf' },
      /name .*not its ARN/,
    ],
    [
      'githubClientSecretName',
      { githubClientSecretName: '0123456789abcdef0123456789abcdef01234567' },
      /looks like the client secret itself/,
    ],
    ['githubAdminTeams (entry 2)', { githubAdminTeams: 'acme/platform,just-an-org' }, /org\/team-slug/],
    ['githubAdminTeams', { githubAdminTeams: 42 }, /comma-separated list/],
  ])('names %s when its value is bad, with an example of a good one', (key, bad, message) => {
    const problems = problemsOf({ ...github, ...bad });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startsWith(`${key}: `)).toBe(true);
    expect(problems[0]).toMatch(message);
  });

  it.each([
    ['stackName', '1st-stack', /CloudFormation stack name/],
    ['retainData', 'yes', /true or false/],
    ['alarmEmail', 'ops', /email address/],
    ['agentTopology', 'large', /economy .* or ha/],
    ['vpcId', 'vpc-xyz', /VPC id/],
    ['publicSubnetIds', 'sg-0123456789abcdef0', /subnet ids/],
    ['clusterSecurityGroupIds', 'subnet-0123456789abcdef0', /security group ids/],
    ['hostedZoneId', 'example.com', /hosted zone id/],
    ['agentDomainName', 'https://kube.example.com', /DNS name/],
    ['clusters', 'prod cluster', /EKS cluster names/],
  ])('names %s when its value is bad', (key, value, message) => {
    const problems = problemsOf({ ...agent, [key]: value });
    expect(problems.some((p) => p.startsWith(key) && message.test(p) && p.includes(JSON.stringify(value)))).toBe(true);
  });

  it('does not repeat a client secret pasted in place of its name', () => {
    const secret = 'fedcba9876543210fedcba9876543210fedcba98';
    expect(problemsOf({ ...github, githubClientSecretName: secret }).join('\n')).not.toContain(secret);
  });

  it('reports every bad key at once', () => {
    const problems = problemsOf({ stackName: '-', retainData: 'maybe', agentTopology: 'big' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['stackName', 'retainData', 'agentTopology']);
  });

  it('names a misspelled key and the key it was meant to be', () => {
    expect(problemsOf({ githubClientID: 'x' }, ['githubClientID', '@aws-cdk/core:checkSecretUsage'])).toEqual([
      'githubClientID: not a Kubeport context key; did you mean githubClientId?',
    ]);
  });

  it("refuses the agent's network settings without clusters to serve", () => {
    const problems = problemsOf({ vpcId: agent.vpcId, hostedZoneId: agent.hostedZoneId });
    expect(problems).toEqual([
      expect.stringMatching(/^vpcId: given without clusters; .*-c clusters=/),
      expect.stringMatching(/^hostedZoneId: given without clusters/),
    ]);
  });

  it('needs a Route 53 name in the economy topology, and creates a VPC when neither vpcId nor publicSubnetIds is given', () => {
    const problems = problemsOf({ clusters: 'prod' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['hostedZoneId', 'agentDomainName']);
    expect(problems[0]).toContain('agentTopology=economy');
    const context = parse({ clusters: 'prod', agentTopology: 'ha' });
    expect(context.agent).toEqual({
      clusters: ['prod'],
      clusterSecurityGroupIds: [],
      topology: 'ha',
      ingressCidrs: ['0.0.0.0/0'],
      capacity: 'on-demand',
      assumeRoleArns: [],
    });
  });

  it('needs vpcId and publicSubnetIds together, naming the one missing and how to fix it', () => {
    expect(problemsOf({ ...agent, vpcId: undefined })).toEqual([
      expect.stringMatching(/^vpcId: missing; publicSubnetIds is given, .*-c vpcId=vpc-.*leave out both for a new VPC/),
    ]);
    expect(problemsOf({ ...agent, publicSubnetIds: undefined })).toEqual([
      expect.stringMatching(/^publicSubnetIds: missing; vpcId is given, .*-c publicSubnetIds=subnet-.*leave out both/),
    ]);
    expect(parse(agent).agent?.vpc).toEqual({
      vpcId: 'vpc-0123456789abcdef0',
      publicSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
    });
  });

  it('reads the ingress CIDRs, the capacity and the discovery tag, and names a bad one', () => {
    expect(
      parse({
        ...agent,
        agentIngressCidrs: '203.0.113.0/24, 198.51.100.7/32',
        agentCapacity: 'spot',
        agentDiscoveryTag: 'kubeport=enabled',
      }).agent,
    ).toMatchObject({ ingressCidrs: ['203.0.113.0/24', '198.51.100.7/32'], capacity: 'spot', discoveryTag: 'kubeport=enabled' });
    expect(parse({ ...agent, agentDiscoveryTag: 'kubeport' }).agent?.discoveryTag).toBe('kubeport');
    expect(parse({ ...agent, agentAssumeRoleArns: 'arn:aws:iam::210987654321:role/kubeport-eks' }).agent?.assumeRoleArns).toEqual([
      'arn:aws:iam::210987654321:role/kubeport-eks',
    ]);
    expect(problemsOf({ ...agent, agentAssumeRoleArns: 'arn:aws:iam::210987654321:user/alice' })).toEqual([
      expect.stringMatching(/^agentAssumeRoleArns \(entry 1\): give IAM role ARNs/),
    ]);
    const problems = problemsOf({ ...agent, agentIngressCidrs: '203.0.113.0/33,10.0.0.1', agentCapacity: 'cheap' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['agentIngressCidrs (entry 1)', 'agentIngressCidrs (entry 2)', 'agentCapacity']);
    expect(problems[2]).toMatch(/Spot has no ARM64/);
    expect(problemsOf({ agentCapacity: 'spot' })).toEqual([expect.stringMatching(/^agentCapacity: given without clusters/)]);
  });

  it('needs two subnets for the ha topology, which needs no Route 53 name', () => {
    const network = { ...agent, hostedZoneId: undefined, agentDomainName: undefined };
    expect(problemsOf({ ...network, publicSubnetIds: 'subnet-0123456789abcdef0', agentTopology: 'ha' })).toEqual([
      expect.stringMatching(/^publicSubnetIds: agentTopology=ha spreads two tasks/),
    ]);
    expect(parse({ ...network, agentTopology: 'ha' }).agent).toMatchObject({ topology: 'ha', clusterSecurityGroupIds: [] });
  });

  it('needs hostedZoneId and agentDomainName together', () => {
    const withZoneOnly = { ...agent, agentDomainName: undefined };
    expect(problemsOf({ ...withZoneOnly, agentTopology: 'ha' })).toEqual([
      expect.stringMatching(/^agentDomainName: missing; hostedZoneId and agentDomainName go together/),
    ]);
  });

  it('says where to set keys in its message', () => {
    expect(() => parse({ retainData: 'no' })).toThrow(
      /npx cdk synth -c key=value.*cdk\.json[\s\S]*retainData: give true or false \(got "no"\)/,
    );
  });
});
