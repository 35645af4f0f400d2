// `npm run cost`: the monthly idle cost of the stack, per resource and in total, for the control
// plane alone and each agent topology, against the aims.
//   --format=text|markdown|json   (markdown pastes into the README)
//   --every-resource              a row for each free resource too (they are grouped by type otherwise)
//   --template=FILE               price one synthesized template instead (e.g. cdk.out/Kubeport.template.json)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type Scenario, type ScenarioCost, costScenarios, renderJson, renderMarkdown, renderText } from '../lib/infra/cost-report.js';
import { BASELINE_SCENARIO, COST_SCENARIOS, priceDeployment, priceScenario } from '../lib/infra/cost-scenarios.js';
import type { CloudFormationTemplate } from '../lib/infra/idle-cost.js';

const RENDERERS = {
  text: renderText,
  markdown: renderMarkdown,
  json: (costs: ScenarioCost[], baseline: string) => renderJson(costs, baseline),
};

function main(): void {
  const { values } = parseArgs({
    options: {
      format: { type: 'string', default: 'text' },
      template: { type: 'string' },
      'every-resource': { type: 'boolean', default: false },
    },
  });
  const format = values.format as keyof typeof RENDERERS;
  if (!(format in RENDERERS)) {
    console.error(`cost: --format=${values.format} is not one of ${Object.keys(RENDERERS).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  let scenarios: Scenario[];
  if (values.template) {
    const template = JSON.parse(readFileSync(values.template, 'utf8')) as CloudFormationTemplate;
    scenarios = [{ name: 'template', description: values.template, lines: priceDeployment(template) }];
  } else {
    scenarios = COST_SCENARIOS.map(priceScenario);
  }
  const baseline = scenarios.find((scenario) => scenario.name === BASELINE_SCENARIO) ?? scenarios[0]!;
  const costs = costScenarios(scenarios, baseline);
  process.stdout.write(RENDERERS[format](costs, baseline.name, { everyResource: values['every-resource'] }));
  if (costs.some((cost) => cost.notPriced.length > 0)) process.exitCode = 1;
}

main();
