// The auth function on AWS: logins, certificates, CA rotation; the only one that signs.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { authEnvironmentSchema, parseEnvironment } from '../../adapters/aws/function-environment.js';
import { createAuthHandler } from '../../../lambdas/auth/handler.js';
import { agentHostCertConfig, authServices } from '../aws-services.js';
import { atColdStart, functionLog } from './cold-start.js';

const handle = atColdStart(() => {
  const config = parseEnvironment(authEnvironmentSchema, process.env);
  return createAuthHandler(authServices(config, process.env, functionLog), functionLog, { agentHostCert: agentHostCertConfig(config) });
});

/** Lambda's entry: an HTTP API (payload v2) event in, the structured result out; the context is not needed. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  return handle(event);
}
