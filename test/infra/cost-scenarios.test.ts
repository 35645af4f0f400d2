import { describe, expect, it } from 'vitest';
import { COST_SCENARIOS, priceDeployment, priceScenario } from '../../lib/infra/cost-scenarios.js';
import { totalMonthlyUsd } from '../../lib/infra/idle-cost.js';

describe('npm run cost on the real stack', () => {
  // One synth, offline, of the topology with the most resources.
  const scenario = priceScenario(COST_SCENARIOS.find((candidate) => candidate.name === 'ha')!);

  it('prices every resource of the synthesized template, leaving none unpriced', () => {
    const unpriced = scenario.lines.filter((line) => line.kind === 'not-priced');
    expect(unpriced.map((line) => `${line.logicalId} ${line.type}`)).toEqual([]);
    expect(scenario.lines.filter((line) => line.type === 'AWS::KMS::Key' && line.monthlyUsd === 1).length).toBeGreaterThanOrEqual(2);
  });

  it('counts the GitHub client secret the user creates in the total', () => {
    expect(scenario.lines.map((line) => line.logicalId)).toContain('(GitHub client secret)');
    expect(totalMonthlyUsd(scenario.lines)).toBeGreaterThan(2.4);
  });

  it('keeps the whole economy deployment on Fargate Spot under $12 a month, its image included', () => {
    const spot = priceScenario(COST_SCENARIOS.find((candidate) => candidate.name === 'economy-spot')!);
    expect(spot.lines.map((line) => line.logicalId)).toContain('(agent image)');
    expect(spot.lines.find((line) => line.type === 'AWS::ECS::Service')?.note).toContain('Fargate Spot X86_64');
    expect(totalMonthlyUsd(spot.lines)).toBeLessThan(12);
  });
});

describe('priceDeployment', () => {
  const fn = (variables: Record<string, string>) => ({
    Resources: { Auth: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: variables } } } },
  });

  it('adds the GitHub client secret the user creates only when a function is given its name', () => {
    expect(priceDeployment(fn({ KUBEPORT_GITHUB_SECRET_NAME: 'kubeport/github' })).map((line) => line.logicalId)).toEqual([
      'Auth',
      '(GitHub client secret)',
    ]);
    expect(priceDeployment(fn({ KUBEPORT_CLUSTER_NAME: 'x' })).map((line) => line.logicalId)).toEqual(['Auth']);
  });
});
