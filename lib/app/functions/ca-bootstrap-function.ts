// The CA bootstrap custom resource on AWS. Unlike the API functions, a bad environment does not
// fail the cold start: CloudFormation would wait an hour for an answer, so every event is
// answered FAILED with the message (logged once, at cold start).
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { caBootstrapEnvironmentSchema, parseEnvironment } from '../../adapters/aws/function-environment.js';
import { deploymentGitHubSettings } from '../../core/deployment-connector.js';
import { bootstrapDeployment } from '../../services/deployment-bootstrap.js';
import { type Bootstrap, createCaBootstrapHandler } from '../../../lambdas/ca-bootstrap/handler.js';
import { caBootstrapServices } from '../aws-services.js';
import { atColdStart, functionLog } from './cold-start.js';

function buildBootstrap(): { bootstrap: Bootstrap; stackId: string } | Error {
  try {
    return atColdStart(() => {
      const config = parseEnvironment(caBootstrapEnvironmentSchema, process.env);
      const services = caBootstrapServices(config, process.env);
      const github = deploymentGitHubSettings(config);
      // The event is only the trigger: everything the bootstrap writes comes from the environment.
      return { bootstrap: () => bootstrapDeployment(services, { ...services, github }), stackId: config.KUBEPORT_STACK_ID };
    });
  } catch (error) {
    return error as Error;
  }
}

const built = buildBootstrap();
// A bad environment answers every event FAILED before the stack is compared, so no id is needed then.
const handle =
  built instanceof Error
    ? createCaBootstrapHandler(built, { log: functionLog, stackId: '' })
    : createCaBootstrapHandler(built.bootstrap, { log: functionLog, stackId: built.stackId });

export async function handler(event: CloudFormationCustomResourceEvent, context: Context): Promise<void> {
  return handle(event, context);
}
