// The CDK app: `npm run synth`, `npx cdk deploy`. The only place CDK context is read.
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KubeportStack } from '../lib/infra/kubeport-stack.js';

const app = new App();
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'Kubeport';
new KubeportStack(app, stackName, {
  description: 'Kubeport: identity-based, short-lived, audited access to Kubernetes clusters',
  retainData: app.node.tryGetContext('retainData') !== 'false',
});
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
