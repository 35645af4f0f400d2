// The agent's one configuration schema: every bad variable is named on a line of its own.
import { describe, expect, it } from 'vitest';
import { AgentEnvironmentError, parseAgentEnvironment } from '../../lib/app/agent-environment.js';

const minimal = {
  AWS_REGION: 'eu-west-1',
  KUBEPORT_CLUSTER_NAME: 'kubeport',
  KUBEPORT_API_URL: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
  KUBEPORT_RESOURCES_TABLE: 'kubeport-resources',
  KUBEPORT_AUDIT_TABLE: 'kubeport-audit',
  KUBEPORT_AUDIT_BUCKET: 'kubeport-audit-archive',
  KUBEPORT_RECORDINGS_BUCKET: 'kubeport-recordings',
};

const problems = (env: Record<string, string | undefined>): string[] => {
  try {
    parseAgentEnvironment(env);
  } catch (error) {
    if (error instanceof AgentEnvironmentError) return error.problems;
    throw error;
  }
  return [];
};

describe('parseAgentEnvironment', () => {
  it('takes the stack-set variables and fills in the defaults', () => {
    const env = parseAgentEnvironment({ ...minimal, HOME: '/home/agent', KUBEPORT_EKS_CLUSTERS: 'dev, prod,' });
    expect(env).toMatchObject({
      KUBEPORT_AGENT_PORT: 443,
      KUBEPORT_EKS_CLUSTERS: ['dev', 'prod'],
      KUBEPORT_DISCOVERY_TAG: '',
      KUBEPORT_HEALTH_INTERVAL_SECONDS: 30,
      KUBEPORT_DRAIN_SECONDS: 100,
    });
  });

  it('names each bad or missing variable on a line of its own', () => {
    const found = problems({ ...minimal, KUBEPORT_API_URL: 'not a url', KUBEPORT_AUDIT_TABLE: undefined, KUBEPORT_DRAIN_SECONDS: '-3' });
    expect(found).toHaveLength(3);
    expect(found.some((line) => line.startsWith('KUBEPORT_API_URL: '))).toBe(true);
    expect(found).toContain('KUBEPORT_AUDIT_TABLE: is not set; the stack sets it');
    expect(found).toContain('KUBEPORT_DRAIN_SECONDS: KUBEPORT_DRAIN_SECONDS must be above 0');
  });

  it('an empty variable is unset: a required one is named, an optional one takes its default', () => {
    expect(problems({ ...minimal, AWS_REGION: '' })).toEqual(['AWS_REGION: is not set; the stack sets it']);
    expect(parseAgentEnvironment({ ...minimal, KUBEPORT_AGENT_PORT: '' }).KUBEPORT_AGENT_PORT).toBe(443);
  });

  it('names a discovery tag that is not KEY or KEY=VALUE', () => {
    const found = problems({ ...minimal, KUBEPORT_DISCOVERY_TAG: '=true' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^KUBEPORT_DISCOVERY_TAG: KUBEPORT_DISCOVERY_TAG "=true" names no tag key; write KEY or KEY=VALUE/);
    expect(parseAgentEnvironment({ ...minimal, KUBEPORT_DISCOVERY_TAG: 'kubeport-discover=true' }).KUBEPORT_DISCOVERY_TAG).toBe(
      'kubeport-discover=true',
    );
  });

  it('wants the hosted zone and the agent domain name together', () => {
    expect(problems({ ...minimal, KUBEPORT_HOSTED_ZONE_ID: 'Z123' })).toEqual([
      'KUBEPORT_AGENT_DOMAIN_NAME: is not set but KUBEPORT_HOSTED_ZONE_ID is; set both (economy topology) or neither',
    ]);
    expect(problems({ ...minimal, KUBEPORT_AGENT_DOMAIN_NAME: 'agent.example.com' })).toEqual([
      'KUBEPORT_HOSTED_ZONE_ID: is not set but KUBEPORT_AGENT_DOMAIN_NAME is; set both (economy topology) or neither',
    ]);
    expect(problems({ ...minimal, KUBEPORT_HOSTED_ZONE_ID: 'Z123', KUBEPORT_AGENT_DOMAIN_NAME: 'agent.example.com' })).toEqual([]);
  });
});
