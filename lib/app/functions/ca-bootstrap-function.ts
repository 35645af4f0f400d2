// The CA bootstrap custom resource on AWS. Unlike the API functions, a bad environment does not
// fail the cold start: CloudFormation would wait an hour for an answer, so every event is
// answered FAILED with the message (logged once, at cold start).
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { caBootstrapEnvironmentSchema, parseEnvironment } from '../../adapters/aws/function-environment.js';
import { bootstrapDeployment } from '../../services/deployment-bootstrap.js';
import { type Bootstrap, createCaBootstrapHandler } from '../../../lambdas/ca-bootstrap/handler.js';
import { caBootstrapServices } from '../aws-services.js';
import { atColdStart, functionLog } from './cold-start.js';

function buildBootstrap(): Bootstrap | Error {
  try {
    return atColdStart(() => {
      const services = caBootstrapServices(parseEnvironment(caBootstrapEnvironmentSchema, process.env), process.env);
      return (request) => bootstrapDeployment(services, services, request.properties, request.oldProperties);
    });
  } catch (error) {
    return error as Error;
  }
}

const handle = createCaBootstrapHandler(buildBootstrap(), { log: functionLog });

export async function handler(event: CloudFormationCustomResourceEvent, context: Context): Promise<void> {
  return handle(event, context);
}
