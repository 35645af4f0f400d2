// The CDK app: `npm run synth`, `npx cdk deploy`. The only place CDK context is read, through
// the one schema in lib/infra/stack-context.ts.
import { readFileSync } from 'node:fs';
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addKubeportStack } from '../lib/infra/kubeport-app.js';
import { StackContextError } from '../lib/infra/stack-context.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const app = new App();
try {
  addKubeportStack(app, version);
} catch (error) {
  if (!(error instanceof StackContextError)) throw error;
  // One message naming each bad key and its fix, without a stack trace.
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
