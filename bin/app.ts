// The CDK app: `npm run synth`, `npx cdk deploy`. The only place CDK context is read, through
// the one schema in lib/infra/stack-context.ts.
import { readFileSync } from 'node:fs';
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KubeportStack } from '../lib/infra/kubeport-stack.js';
import { StackContextError, parseStackContext } from '../lib/infra/stack-context.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const app = new App();
let context;
try {
  context = parseStackContext((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext() as object));
} catch (error) {
  if (!(error instanceof StackContextError)) throw error;
  // One message naming each bad key and its fix, without a stack trace.
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
new KubeportStack(app, context.stackName, {
  description: 'Kubeport: identity-based, short-lived, audited access to Kubernetes clusters',
  retainData: context.retainData,
  serverVersion: version,
  github: context.github,
  alarmEmail: context.alarmEmail,
  agent: context.agent,
});
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
