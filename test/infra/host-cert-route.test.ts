// Template assertions on the agent's certificate route: in a stack with an agent, POST
// /webapi/iam/host-cert reaches the auth function only through the AWS_IAM authorizer, with its
// own 1/s throttle; the agent's role may invoke that one route and nothing else of the API; the
// auth function learns the role and names from its environment. Without an agent, no such route.
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { authEnvironmentSchema, parseEnvironment } from '../../lib/adapters/aws/function-environment.js';
import { agentHostCertConfig } from '../../lib/app/aws-services.js';
import { AGENT_HOST_CERT_THROTTLE, ControlPlaneApi, floodRequestsPerSecond, routeThrottles } from '../../lib/infra/control-plane-api.js';
import { ControlPlaneFunctions, setAgentHostCert } from '../../lib/infra/control-plane-functions.js';
import { Storage } from '../../lib/infra/storage.js';
import { concrete, policyStatements, resourcesOfType } from './template-reading.js';

const ROUTE_KEY = 'POST /webapi/iam/host-cert';

function synthesize(withAgent: boolean) {
  // No bundling: the functions' code does not matter here.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'HostCert', { env: { account: '123456789012', region: 'eu-west-1' } });
  const storage = new Storage(stack, 'Storage', { retain: false });
  const agentRole = new iam.Role(stack, 'AgentTaskRole', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
  const functions = new ControlPlaneFunctions(stack, 'Functions', {
    storage,
    clusterName: 'kubeport',
    ...(withAgent ? { agentHostCert: { roleArn: agentRole.roleArn, hostNames: ['agent.kubeport.example.com'] } } : {}),
  });
  const api = new ControlPlaneApi(stack, 'Api', {
    authFunction: functions.auth.function,
    adminFunction: functions.admin.function,
    agentHostCert: withAgent,
  });
  if (withAgent) api.grantAgentHostCert(agentRole);
  const template = app.synth().getStackByName('HostCert').template as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  };
  return { stack, api, functions, agentRole, resources: template.Resources };
}

describe('the agent certificate route in the template', () => {
  const withAgent = synthesize(true);
  const routeOf = (resources: typeof withAgent.resources) =>
    resourcesOfType(resources, 'AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties!.RouteKey === ROUTE_KEY);

  it('goes to the auth function behind AWS_IAM, throttled at 1/s with a burst of 2', () => {
    const [, route] = routeOf(withAgent.resources)!;
    expect(route.Properties!.AuthorizationType).toBe('AWS_IAM');
    const authId = withAgent.stack.getLogicalId(withAgent.functions.auth.function.node.defaultChild as never);
    const [integrationId] = resourcesOfType(withAgent.resources, 'AWS::ApiGatewayV2::Integration').find(([, i]) =>
      JSON.stringify(i.Properties!.IntegrationUri).includes(authId),
    )!;
    expect(JSON.stringify(route.Properties!.Target)).toContain(integrationId);
    const [, stage] = resourcesOfType(withAgent.resources, 'AWS::ApiGatewayV2::Stage')[0]!;
    expect((stage.Properties!.RouteSettings as Record<string, unknown>)[ROUTE_KEY]).toEqual({
      ThrottlingRateLimit: AGENT_HOST_CERT_THROTTLE.rateLimit,
      ThrottlingBurstLimit: AGENT_HOST_CERT_THROTTLE.burstLimit,
    });
    expect(AGENT_HOST_CERT_THROTTLE).toEqual({ rateLimit: 1, burstLimit: 2 });
    expect(floodRequestsPerSecond(routeThrottles({ agentHostCert: true }))).toBe(floodRequestsPerSecond() + 1);
  });

  it("lets the agent's role invoke that one route and nothing else of the API", () => {
    const roleId = withAgent.stack.getLogicalId(withAgent.agentRole.node.defaultChild as never);
    const statements = policyStatements(withAgent.resources, roleId);
    expect(statements.map((s) => s.Action)).toEqual(['execute-api:Invoke']);
    const apiId = withAgent.stack.getLogicalId(withAgent.api.api.node.defaultChild as never);
    // Ref of the API is its logical id once made concrete.
    expect(concrete(statements[0]!.Resource)).toBe(
      `arn:aws:execute-api:eu-west-1:123456789012:${apiId}/$default/POST/webapi/iam/host-cert`,
    );
  });

  it('gives the auth function the role and the names, which its schema parses into the route configuration', () => {
    const authId = withAgent.stack.getLogicalId(withAgent.functions.auth.function.node.defaultChild as never);
    const variables = (withAgent.resources[authId]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    const roleId = withAgent.stack.getLogicalId(withAgent.agentRole.node.defaultChild as never);
    expect(variables.KUBEPORT_AGENT_ROLE_ARN).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(concrete(variables.KUBEPORT_AGENT_HOST_NAMES)).toBe('agent.kubeport.example.com');
    // Other functions never learn them.
    const adminId = withAgent.stack.getLogicalId(withAgent.functions.admin.function.node.defaultChild as never);
    expect(withAgent.resources[adminId]!.Properties!.Environment).not.toHaveProperty('Variables.KUBEPORT_AGENT_ROLE_ARN');

    const base = {
      KUBEPORT_CLUSTER_NAME: 'kubeport',
      KUBEPORT_RESOURCES_TABLE: 'r',
      KUBEPORT_STATE_TABLE: 's',
      KUBEPORT_AUDIT_TABLE: 'a',
      KUBEPORT_SECRETS_KEY_ID: 'k',
      KUBEPORT_CA_SIGNER_ROLE_ARNS: 'arn:aws:iam::123456789012:role/auth',
      KUBEPORT_CA_READER_ROLE_ARNS: 'arn:aws:iam::123456789012:role/admin',
      KUBEPORT_CA_KEY_TAG: 'kubeport',
    };
    const parsed = (env: Record<string, string>) => agentHostCertConfig(parseEnvironment(authEnvironmentSchema, { ...base, ...env }));
    expect(
      parsed({
        KUBEPORT_AGENT_ROLE_ARN: 'arn:aws:iam::123456789012:role/AgentTaskRole',
        KUBEPORT_AGENT_HOST_NAMES: 'a.example.com, 52.1.2.3',
      }),
    ).toEqual({ roleArn: 'arn:aws:iam::123456789012:role/AgentTaskRole', hostNames: ['a.example.com', '52.1.2.3'] });
    expect(parsed({})).toBeUndefined();
    expect(() => parsed({ KUBEPORT_AGENT_ROLE_ARN: 'arn:aws:iam::123456789012:role/AgentTaskRole' })).toThrow(/set together or not at all/);
    expect(() => parsed({ KUBEPORT_AGENT_HOST_NAMES: 'a.example.com' })).toThrow(/set together or not at all/);
    expect(() => parsed({ KUBEPORT_AGENT_ROLE_ARN: 'arn:aws:iam::123456789012:user/alice', KUBEPORT_AGENT_HOST_NAMES: 'a' })).toThrow(
      /must be an IAM role ARN/,
    );
  });

  it('does not exist in a stack without an agent, and cannot be granted there', () => {
    const without = synthesize(false);
    expect(routeOf(without.resources)).toBeUndefined();
    expect(() => without.api.grantAgentHostCert(without.agentRole)).toThrow(/agentHostCert: true/);
    const authId = without.stack.getLogicalId(without.functions.auth.function.node.defaultChild as never);
    expect(without.resources[authId]!.Properties!.Environment).not.toHaveProperty('Variables.KUBEPORT_AGENT_ROLE_ARN');
    expect(() => setAgentHostCert(without.functions, { roleArn: 'arn:aws:iam::123456789012:role/x', hostNames: [] })).toThrow(
      /at least one host name/,
    );
  });
});
