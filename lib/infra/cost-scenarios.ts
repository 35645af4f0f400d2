// The deployments `npm run cost` prices: the control plane alone, then with the agent in each
// topology. Example context values stand in for the user's (ids of the right shape; synth never
// looks them up), so the templates are the ones a real `cdk synth -c …` would give.
import { type CloudFormationTemplate, type CostLine, priceTemplate } from './idle-cost.js';
import type { AuthEnvironment } from '../adapters/aws/function-environment.js';
import { AGENT_IMAGE_LINE, GITHUB_SECRET_LINE, type Scenario } from './cost-report.js';
import { synthesizeTemplate } from './synthesize-template.js';

/** The auth function's variable naming the GitHub client secret (lib/adapters/aws/function-environment.ts). */
const GITHUB_SECRET_VARIABLE = 'KUBEPORT_GITHUB_SECRET_NAME' satisfies keyof AuthEnvironment;

const GITHUB_CONTEXT = {
  githubClientId: 'Ov23liExampleClient',
  githubClientSecretName: 'kubeport/github-client-secret',
  githubAdminTeams: 'acme/platform',
};

const AGENT_CONTEXT = {
  clusters: 'prod',
  vpcId: 'vpc-0123456789abcdef0',
  publicSubnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  clusterSecurityGroupIds: 'sg-0123456789abcdef0',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  agentDomainName: 'kube.example.com',
};

export interface ScenarioDefinition {
  name: string;
  description: string;
  context: Record<string, string>;
}

export const BASELINE_SCENARIO = 'default';

export const COST_SCENARIOS: readonly ScenarioDefinition[] = [
  { name: BASELINE_SCENARIO, description: 'the control plane: GitHub login, no clusters (so no agent)', context: { ...GITHUB_CONTEXT } },
  {
    name: 'economy',
    description: 'agentTopology=economy: one agent task with a public address published in Route 53',
    context: { ...GITHUB_CONTEXT, ...AGENT_CONTEXT, agentTopology: 'economy' },
  },
  {
    name: 'economy-spot',
    description: 'agentTopology=economy, agentCapacity=spot: one X86_64 agent task on Fargate Spot (may be stopped with 2 minutes notice)',
    context: { ...GITHUB_CONTEXT, ...AGENT_CONTEXT, agentTopology: 'economy', agentCapacity: 'spot' },
  },
  {
    name: 'ha',
    description: 'agentTopology=ha: two agent tasks across zones behind an NLB',
    context: { ...GITHUB_CONTEXT, ...AGENT_CONTEXT, agentTopology: 'ha' },
  },
];

/** Synthesizes the stack with the scenario's context and prices it. */
export function priceScenario(definition: ScenarioDefinition): Scenario {
  return { name: definition.name, description: definition.description, lines: priceDeployment(synthesizeTemplate(definition.context)) };
}

/**
 * The template's lines and what the deployment pays for outside it: the GitHub client secret, when
 * a function is given its name, and the agent's image in the CDK assets repository, when a task runs it.
 */
export function priceDeployment(template: CloudFormationTemplate): CostLine[] {
  const resources = Object.values(template.Resources ?? {});
  const runsAssetImage = resources.some(
    (resource) =>
      resource.Type === 'AWS::ECS::TaskDefinition' &&
      JSON.stringify(resource.Properties?.ContainerDefinitions ?? []).includes('container-assets'),
  );
  const readsGitHubSecret = resources.some(
    (resource) =>
      resource.Type === 'AWS::Lambda::Function' &&
      JSON.stringify(resource.Properties?.Environment ?? {}).includes(`"${GITHUB_SECRET_VARIABLE}"`),
  );
  return [...priceTemplate(template), ...(readsGitHubSecret ? [GITHUB_SECRET_LINE] : []), ...(runsAssetImage ? [AGENT_IMAGE_LINE] : [])];
}
