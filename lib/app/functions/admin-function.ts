// The admin function on AWS: tctl's API, audit search and recordings.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { adminEnvironmentSchema, parseEnvironment } from '../../adapters/aws/function-environment.js';
import { createAdminHandler } from '../../../lambdas/admin/handler.js';
import { adminServices } from '../aws-services.js';
import { atColdStart, functionLog } from './cold-start.js';

const handle = atColdStart(() =>
  createAdminHandler(adminServices(parseEnvironment(adminEnvironmentSchema, process.env), process.env, functionLog), functionLog),
);

/** Lambda's entry: an HTTP API (payload v2) event in, the structured result out; the context is not needed. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  return handle(event);
}
