// The stack built from an app's CDK context, validated in one place (stack-context.ts): what
// bin/app.ts deploys and what `npm run cost` synthesizes in-process are the same stack.
import type { App } from 'aws-cdk-lib';
import { KubeportStack } from './kubeport-stack.js';
import { parseStackContext } from './stack-context.js';

/**
 * Adds Kubeport's stack to `app`, configured from its context.
 * @throws StackContextError naming every bad or missing context key and its fix
 */
export function addKubeportStack(app: App, serverVersion?: string): KubeportStack {
  const context = parseStackContext((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext() as object));
  return new KubeportStack(app, context.stackName, {
    description: 'Kubeport: identity-based, short-lived, audited access to Kubernetes clusters',
    retainData: context.retainData,
    ...(serverVersion !== undefined ? { serverVersion } : {}),
    github: context.github,
    alarmEmail: context.alarmEmail,
    reservedConcurrency: context.reservedConcurrency,
    auditLockMode: context.auditLockMode,
    agent: context.agent,
  });
}
