// `npm run cost`'s report: each scenario's lines and totals, which lines the agent adds, the
// verdict against the issue's aims, rendered as a text table, a markdown table or JSON.
import { type CostLine, totalMonthlyUsd } from './idle-cost.js';
import { PRICE_SHEET } from './prices.js';

export interface Scenario {
  /** e.g. 'default', 'economy', 'ha'. */
  name: string;
  /** What the scenario is, in words (its context). */
  description: string;
  lines: CostLine[];
}

export interface ScenarioCost extends Scenario {
  /** Lines this scenario has and the baseline (the control plane alone) does not: the agent's. */
  agentLines: CostLine[];
  totalUsd: number;
  agentUsd: number;
  notPriced: CostLine[];
}

/** The issue's aims, in US dollars a month. "A few dollars" for the control plane is read as at most $5. */
export const AIMS = { wholeDeployment: 14, economyAgent: 12, controlPlane: 5 } as const;

/** Something a deployment pays for that is not in the template (created by the user), priced like a template line. */
export const GITHUB_SECRET_LINE: CostLine = {
  logicalId: '(GitHub client secret)',
  type: 'AWS::SecretsManager::Secret',
  kind: 'priced',
  monthlyUsd: PRICE_SHEET.prices.secret.usd,
  note: 'created by you for the GitHub OAuth app (githubClientSecretName); not in the template',
};

/** The agent's image, pushed by `cdk deploy` to the CDK bootstrap's assets repository (ECR), outside the template. */
export const AGENT_IMAGE_LINE: CostLine = {
  logicalId: '(agent image)',
  type: 'AWS::ECR::Repository',
  kind: 'priced',
  monthlyUsd: PRICE_SHEET.idleData.imageGb * PRICE_SHEET.prices.ecrStorage.usd,
  note: `the agent's image (~${PRICE_SHEET.idleData.imageGb * 1000} MB) in the CDK bootstrap's assets repository; old images stay until you delete them`,
};

/** Totals each scenario and finds the agent's lines by comparing with `baseline` (the scenario without an agent). */
export function costScenarios(scenarios: Scenario[], baseline: Scenario): ScenarioCost[] {
  const baselineIds = new Set(baseline.lines.map((line) => `${line.type} ${line.logicalId}`));
  return scenarios.map((scenario) => {
    const agentLines = scenario === baseline ? [] : scenario.lines.filter((line) => !baselineIds.has(`${line.type} ${line.logicalId}`));
    return {
      ...scenario,
      agentLines,
      totalUsd: totalMonthlyUsd(scenario.lines),
      agentUsd: totalMonthlyUsd(agentLines),
      notPriced: scenario.lines.filter((line) => line.kind === 'not-priced'),
    };
  });
}

const dollars = (value: number) => `$${value.toFixed(2)}`;
const check = (value: number, aim: number) => `${dollars(value)} (aim < ${dollars(aim)}: ${value < aim ? 'MET' : 'MISSED'})`;

/** One line: the control plane, each topology's whole deployment, the economy topology's agent. */
export function verdict(costs: ScenarioCost[], baselineName: string): string {
  const parts: string[] = [];
  const baseline = costs.find((cost) => cost.name === baselineName);
  if (baseline) parts.push(`control plane ${check(baseline.totalUsd, AIMS.controlPlane)}`);
  for (const cost of costs) {
    if (cost.name === baselineName) continue;
    let part = `${cost.name} ${check(cost.totalUsd, AIMS.wholeDeployment)}`;
    if (cost.agentLines.length === 0) part += ', agent NOT CHECKED (the template has no agent resources yet)';
    else if (cost.name.startsWith('economy')) part += `, its agent ${check(cost.agentUsd, AIMS.economyAgent)}`;
    else part += `, its agent ${dollars(cost.agentUsd)}`;
    parts.push(part);
  }
  const unpriced = costs.reduce((sum, cost) => sum + cost.notPriced.length, 0);
  if (unpriced > 0) parts.push(`${unpriced} resource(s) NOT PRICED, totals are too low`);
  return `Verdict: ${parts.join('; ')}.`;
}

const sortLines = (lines: CostLine[]) =>
  [...lines].sort((a, b) => {
    const rank = (line: CostLine) => (line.kind === 'not-priced' ? 0 : line.kind === 'priced' ? 1 : 2);
    return rank(a) - rank(b) || b.monthlyUsd - a.monthlyUsd || a.logicalId.localeCompare(b.logicalId);
  });

const amount = (line: CostLine) => (line.kind === 'not-priced' ? 'NOT PRICED' : dollars(line.monthlyUsd));

export interface RenderOptions {
  /** One row per free resource too; by default free resources of one type and reason share a row. */
  everyResource?: boolean;
}

function rows(cost: ScenarioCost, options: RenderOptions): string[][] {
  const agentLines = new Set(cost.agentLines);
  const tag = (line: CostLine) => (agentLines.has(line) ? '[agent] ' : '');
  const out: string[][] = [];
  const groups = new Map<string, CostLine[]>();
  for (const line of sortLines(cost.lines)) {
    if (line.kind !== 'free' || options.everyResource) {
      out.push([line.logicalId, line.type, amount(line), `${tag(line)}${line.note}`]);
      continue;
    }
    const key = `${tag(line)}${line.type}\n${line.note}`;
    groups.set(key, [...(groups.get(key) ?? []), line]);
  }
  for (const group of groups.values()) {
    const [first] = group as [CostLine];
    out.push([group.length === 1 ? first.logicalId : `(${group.length} resources)`, first.type, dollars(0), `${tag(first)}${first.note}`]);
  }
  return out;
}

/** A topology whose template adds nothing to the baseline's is said so in one line, not printed again. */
const sameAsBaseline = (cost: ScenarioCost, baselineName: string) => cost.name !== baselineName && cost.agentLines.length === 0;

const HEADER = ['resource', 'type', 'USD/month', 'note'];

const totalsLine = (cost: ScenarioCost) =>
  `Total ${dollars(cost.totalUsd)}/month` +
  (cost.agentLines.length > 0 ? ` (agent ${dollars(cost.agentUsd)}, control plane ${dollars(cost.totalUsd - cost.agentUsd)})` : '');

const sheetLine = () => {
  const { idleData: d } = PRICE_SHEET;
  return (
    `Prices: ${PRICE_SHEET.region}, taken ${PRICE_SHEET.takenOn} (lib/infra/prices.ts, ${PRICE_SHEET.hoursPerMonth} h a month). ` +
    `Idle data assumed: ${d.tableGb * 1000} MB per table, ${d.bucketGb * 1000} MB per bucket, ${d.logGroupGb * 1000} MB per log group.`
  );
};

export function renderText(costs: ScenarioCost[], baselineName: string, options: RenderOptions = {}): string {
  const out: string[] = [];
  for (const cost of costs) {
    out.push(`\n${cost.name}: ${cost.description}`);
    if (sameAsBaseline(cost, baselineName)) {
      out.push(`the same template as ${baselineName} (no agent resources yet). ${totalsLine(cost)}`);
      continue;
    }
    const table = [HEADER, ...rows(cost, options)];
    const widths = HEADER.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table)
      out.push(
        row
          .map((cell, i) => (i === 2 ? cell.padStart(widths[i]!) : i === 3 ? cell : cell.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      );
    out.push(totalsLine(cost));
  }
  out.push('', sheetLine(), verdict(costs, baselineName));
  return out.join('\n').trimStart() + '\n';
}

const escapeCell = (cell: string) => cell.replaceAll('|', '\\|');

export function renderMarkdown(costs: ScenarioCost[], baselineName: string, options: RenderOptions = {}): string {
  const out: string[] = [];
  for (const cost of costs) {
    out.push(`**${cost.name}**: ${cost.description}`, '');
    if (sameAsBaseline(cost, baselineName)) {
      out.push(`The same template as ${baselineName} (no agent resources yet). ${totalsLine(cost)}`, '');
      continue;
    }
    out.push(`| ${HEADER.join(' | ')} |`, '|---|---|--:|---|');
    for (const row of rows(cost, options)) out.push(`| ${row.map(escapeCell).join(' | ')} |`);
    out.push(
      `| **total** | | **${dollars(cost.totalUsd)}** | ${cost.agentLines.length > 0 ? `agent ${dollars(cost.agentUsd)}` : ''} |`,
      '',
    );
  }
  out.push(sheetLine(), '', verdict(costs, baselineName));
  return out.join('\n') + '\n';
}

/** Every line, free ones included. */
export function renderJson(costs: ScenarioCost[], baselineName: string): string {
  return (
    JSON.stringify(
      {
        region: PRICE_SHEET.region,
        pricesTakenOn: PRICE_SHEET.takenOn,
        idleData: PRICE_SHEET.idleData,
        aims: AIMS,
        scenarios: costs.map((cost) => ({
          name: cost.name,
          description: cost.description,
          totalUsd: cost.totalUsd,
          agentUsd: cost.agentUsd,
          notPriced: cost.notPriced.map((line) => line.logicalId),
          lines: cost.lines.map((line) => ({ ...line, agent: cost.agentLines.includes(line) })),
        })),
        verdict: verdict(costs, baselineName),
      },
      null,
      2,
    ) + '\n'
  );
}
