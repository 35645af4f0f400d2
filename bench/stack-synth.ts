// How long the stack takes to synthesize in one process, as the template tests do it: loading
// the stack's modules, building it (NodejsFunction bundles each function with esbuild here), and
// synthesizing with the cdk-nag AwsSolutions checks; then a second stack without bundling, as the
// tests build their second one. Wall time and this process's CPU time, since the machine may be busy.
import { App, Aspects } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';

function measure<T>(what: string, work: () => T): T {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const result = work();
  const used = process.cpuUsage(cpu);
  console.log(
    `${what.padEnd(44)} ${(performance.now() - wall).toFixed(0).padStart(6)} ms wall ${((used.user + used.system) / 1000).toFixed(0).padStart(6)} ms CPU`,
  );
  return result;
}

const start = performance.now();
const { KubeportStack } = await import('../lib/infra/kubeport-stack.js');
console.log(`${'import the stack'.padEnd(44)} ${(performance.now() - start).toFixed(0).padStart(6)} ms wall`);

for (const bundle of [true, false]) {
  const app = new App(bundle ? {} : { context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = measure(
    `build the stack (${bundle ? 'bundling 3 functions' : 'no bundling'})`,
    () => new KubeportStack(app, 'Kubeport', {}),
  );
  Aspects.of(app).add(new AwsSolutionsChecks());
  const template = measure('synthesize with cdk-nag', () => Template.fromStack(stack));
  console.log(`${'resources'.padEnd(44)} ${Object.keys(template.toJSON().Resources as object).length}`);
}
