import { describe, expect, it } from 'vitest';
import { AIMS, type Scenario, costScenarios, renderJson, renderMarkdown, renderText, verdict } from '../../lib/infra/cost-report.js';
import type { CostLine } from '../../lib/infra/idle-cost.js';

const line = (logicalId: string, type: string, monthlyUsd: number, kind: CostLine['kind'] = 'priced'): CostLine => ({
  logicalId,
  type,
  kind,
  monthlyUsd,
  note: `${logicalId} note`,
});

const controlPlane: Scenario = {
  name: 'default',
  description: 'control plane',
  lines: [line('UserCaKey', 'AWS::KMS::Key', 1), line('HostCaKey', 'AWS::KMS::Key', 1), line('Api', 'AWS::ApiGatewayV2::Api', 0, 'free')],
};
const economy: Scenario = {
  name: 'economy',
  description: 'one task',
  lines: [
    ...controlPlane.lines,
    line('AgentService', 'AWS::ECS::Service', 10.86),
    line('AgentTask', 'AWS::ECS::TaskDefinition', 0, 'free'),
  ],
};
const ha: Scenario = {
  name: 'ha',
  description: 'two tasks and an NLB',
  lines: [
    ...controlPlane.lines,
    line('AgentService', 'AWS::ECS::Service', 21.72),
    line('AgentNlb', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 23.73),
  ],
};

describe('the cost report', () => {
  const costs = costScenarios([controlPlane, economy, ha], controlPlane);

  it("finds the agent's lines as those the control plane alone does not have, and totals each part", () => {
    expect(costs[0]!.agentLines).toEqual([]);
    expect(costs[1]!.agentLines.map((l) => l.logicalId)).toEqual(['AgentService', 'AgentTask']);
    expect(costs[1]!.totalUsd).toBeCloseTo(12.86, 9);
    expect(costs[1]!.agentUsd).toBeCloseTo(10.86, 9);
    expect(costs[2]!.agentUsd).toBeCloseTo(45.45, 9);
  });

  it('says in one line whether each aim is met', () => {
    const said = verdict(costs, 'default');
    expect(said.split('\n')).toHaveLength(1);
    expect(said).toContain(`control plane $2.00 (aim < $${AIMS.controlPlane.toFixed(2)}: MET)`);
    expect(said).toContain('economy $12.86 (aim < $14.00: MET), its agent $10.86 (aim < $12.00: MET)');
    expect(said).toContain('ha $47.45 (aim < $14.00: MISSED)');
  });

  it('says the agent was not checked when a topology adds nothing to the template yet', () => {
    const same = costScenarios([controlPlane, { ...controlPlane, name: 'economy' }], controlPlane);
    expect(verdict(same, 'default')).toContain('agent NOT CHECKED');
  });

  it('warns in the verdict and marks the line when a resource is not priced', () => {
    const unknown = costScenarios(
      [{ ...controlPlane, lines: [...controlPlane.lines, line('Bastion', 'AWS::EC2::Instance', 0, 'not-priced')] }],
      controlPlane,
    );
    expect(unknown[0]!.notPriced.map((l) => l.logicalId)).toEqual(['Bastion']);
    expect(verdict(unknown, 'default')).toContain('1 resource(s) NOT PRICED');
    expect(renderText(unknown, 'default')).toMatch(/Bastion\s+AWS::EC2::Instance\s+NOT PRICED/);
  });

  it('renders a markdown table per scenario with its total, ready to paste', () => {
    const markdown = renderMarkdown(costs, 'default');
    expect(markdown).toContain('| resource | type | USD/month | note |');
    expect(markdown).toContain('| AgentNlb | AWS::ElasticLoadBalancingV2::LoadBalancer | $23.73 | [agent] AgentNlb note |');
    expect(markdown).toContain('| **total** | | **$47.45** | agent $45.45 |');
    expect(markdown).toContain('us-east-1');
  });

  it('groups free resources of one type and reason in one row, unless every resource is asked for', () => {
    const routes = [line('RouteA', 'AWS::ApiGatewayV2::Route', 0, 'free'), line('RouteB', 'AWS::ApiGatewayV2::Route', 0, 'free')].map(
      (l) => ({
        ...l,
        note: 'part of the HTTP API',
      }),
    );
    const routed = { ...controlPlane, lines: [...controlPlane.lines, ...routes] };
    const withRoutes = costScenarios([routed], routed);
    expect(renderMarkdown(withRoutes, 'default')).toContain('| (2 resources) | AWS::ApiGatewayV2::Route | $0.00 | part of the HTTP API |');
    const every = renderMarkdown(withRoutes, 'default', { everyResource: true });
    expect(every).toContain('| RouteA | AWS::ApiGatewayV2::Route | $0.00 | part of the HTTP API |');
    expect(every).toContain('| RouteB |');
  });

  it('prints a topology that adds nothing to the template as the same, with its total', () => {
    const same = costScenarios([controlPlane, { ...controlPlane, name: 'economy' }], controlPlane);
    expect(renderText(same, 'default')).toContain('the same template as default (no agent resources yet). Total $2.00/month');
  });

  it('renders JSON with the region, the date, every line and the verdict', () => {
    const parsed = JSON.parse(renderJson(costs, 'default')) as {
      region: string;
      pricesTakenOn: string;
      scenarios: { name: string; totalUsd: number; lines: { logicalId: string; agent: boolean }[] }[];
      verdict: string;
    };
    expect(parsed.region).toBe('us-east-1');
    expect(parsed.pricesTakenOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(parsed.scenarios.map((s) => s.name)).toEqual(['default', 'economy', 'ha']);
    expect(parsed.scenarios[2]!.lines.filter((l) => l.agent).map((l) => l.logicalId)).toEqual(['AgentService', 'AgentNlb']);
    expect(parsed.verdict).toMatch(/^Verdict: /);
  });
});
