import { describe, expect, it } from 'vitest';
import { clusterHealthVerdict, oneLine, sameHealth, type VerdictContext } from '../../lib/core/cluster-health-verdict.js';

const ROLE = 'arn:aws:iam::123456789012:role/kubeport-agent';
const checkedAt = new Date('2026-12-03T03:00:00.000Z');
const eks: VerdictContext = {
  cluster: 'prod',
  agent: 'agent-1',
  eks: { name: 'prod-eks', region: 'eu-west-1' },
  agentRoleArn: ROLE,
  checkedAt,
};
const kubeconfig: VerdictContext = { cluster: 'kind-dev', agent: 'laptop', checkedAt };
const allAllowed = { users: true, groups: true, serviceaccounts: true };

describe('clusterHealthVerdict', () => {
  it('is healthy when every impersonation is allowed, with no problem, reason or fix', () => {
    expect(clusterHealthVerdict({ step: 'reviewed', allowed: allAllowed }, eks)).toEqual({
      cluster: 'prod',
      status: 'healthy',
      checked_at: '2026-12-03T03:00:00.000Z',
      agent: 'agent-1',
    });
  });

  it('names the access entry command with the agent role ARN, the EKS name and region when the token is refused', () => {
    const health = clusterHealthVerdict({ step: 'review', status: 401, message: 'Unauthorized' }, eks);
    expect(health).toMatchObject({ status: 'unhealthy', problem: 'token_refused' });
    expect(health.reason).toContain(ROLE);
    expect(health.fix).toContain(
      `aws eks create-access-entry --cluster-name prod-eks --region eu-west-1 --principal-arn ${ROLE} --kubernetes-groups kubeport:impersonator --type STANDARD`,
    );
    expect(health.fix).toContain('context clusters');
  });

  it("names the source's role for another account, not the agent's own, as the access entry's principal", () => {
    const crossAccount = 'arn:aws:iam::210987654321:role/kubeport-reader';
    const health = clusterHealthVerdict(
      { step: 'review', status: 401, message: '' },
      { ...eks, eks: { name: 'other', region: 'us-east-1', role_arn: crossAccount } },
    );
    expect(health.fix).toContain(`--principal-arn ${crossAccount}`);
    expect(health.fix).not.toContain(ROLE);
  });

  it('says which impersonations are denied and names tctl kube bootstrap', () => {
    const health = clusterHealthVerdict(
      { step: 'reviewed', allowed: { users: true, groups: false, serviceaccounts: false }, reason: 'no RBAC policy matched' },
      eks,
    );
    expect(health).toMatchObject({ status: 'unhealthy', problem: 'cannot_impersonate' });
    expect(health.reason).toBe(
      'the agent (group kubeport:impersonator) may not impersonate groups, serviceaccounts (no RBAC policy matched)',
    );
    expect(health.fix).toBe('as a cluster admin: tctl kube bootstrap prod | kubectl apply -f -');
  });

  it('points an unreachable EKS cluster at security groups and the endpoint, a kubeconfig one at its server', () => {
    const health = clusterHealthVerdict({ step: 'connect', message: 'connect ECONNREFUSED 10.0.0.5:443', code: 'ECONNREFUSED' }, eks);
    expect(health).toMatchObject({ problem: 'unreachable' });
    expect(health.reason).toContain('ECONNREFUSED');
    expect(health.fix).toMatch(/TCP 443 from the agent's security group to the cluster security group/);
    expect(health.fix).toContain('--name prod-eks --region eu-west-1');
    const local = clusterHealthVerdict({ step: 'connect', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' }, kubeconfig);
    expect(local.fix).toContain('kubectl --context kind-dev get --raw /readyz');
  });

  it('tells a TLS verification failure from a refused connection', () => {
    const health = clusterHealthVerdict(
      { step: 'connect', message: 'self-signed certificate', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
      kubeconfig,
    );
    expect(health).toMatchObject({ problem: 'unreachable' });
    expect(health.fix).toContain('certificate-authority-data');
  });

  it('maps DescribeCluster failures to their fix', () => {
    const notFound = clusterHealthVerdict({ step: 'describe', message: 'no cluster', awsError: 'ResourceNotFoundException' }, eks);
    expect(notFound).toMatchObject({
      problem: 'describe_failed',
      reason: 'DescribeCluster of prod-eks in eu-west-1 failed: ResourceNotFoundException',
    });
    expect(notFound.fix).toContain('aws eks list-clusters --region eu-west-1');
    const denied = clusterHealthVerdict({ step: 'describe', message: 'denied', awsError: 'AccessDeniedException' }, eks);
    expect(denied.fix).toBe(`allow ${ROLE} eks:DescribeCluster on arn:aws:eks:eu-west-1:<account>:cluster/prod-eks`);
    const inactive = clusterHealthVerdict({ step: 'describe', message: 'CREATING', awsError: 'ClusterNotActive' }, eks);
    expect(inactive.fix).toContain('ACTIVE');
    expect(inactive.reason).toBe('the agent could not describe the cluster: CREATING');
  });

  it('reports other answers as check_failed with the status', () => {
    const health = clusterHealthVerdict({ step: 'review', status: 503, message: 'etcd is down' }, eks);
    expect(health).toMatchObject({ problem: 'check_failed' });
    expect(health.reason).toBe('the API server answered a SelfSubjectAccessReview with HTTP 503: etcd is down');
    expect(clusterHealthVerdict({ step: 'malformed', message: 'not JSON' }, eks).problem).toBe('check_failed');
  });

  it('keeps a reason to one line, whatever the server said', () => {
    const health = clusterHealthVerdict(
      { step: 'review', status: 500, message: `line one\nline two\r\n\u001b[31m${'x'.repeat(1000)}` },
      eks,
    );
    expect(health.reason).not.toMatch(/[\n\r\u001b]/);
    expect(health.reason!.length).toBeLessThanOrEqual(300);
    expect(oneLine('a\n\n b')).toBe('a b');
  });

  it('names a placeholder when the agent role is not known', () => {
    const health = clusterHealthVerdict({ step: 'review', status: 401, message: '' }, { ...eks, agentRoleArn: undefined });
    expect(health.fix).toContain("--principal-arn <the agent's task role ARN>");
  });
});

describe('sameHealth', () => {
  it('treats a new check with the same status and problem as no change', () => {
    const a = clusterHealthVerdict({ step: 'review', status: 401, message: '' }, eks);
    const b = clusterHealthVerdict(
      { step: 'review', status: 401, message: '' },
      { ...eks, checkedAt: new Date(checkedAt.getTime() + 30_000) },
    );
    expect(sameHealth(a, b)).toBe(true);
    expect(sameHealth(undefined, b)).toBe(false);
    expect(sameHealth(a, clusterHealthVerdict({ step: 'reviewed', allowed: allAllowed }, eks))).toBe(false);
  });
});
