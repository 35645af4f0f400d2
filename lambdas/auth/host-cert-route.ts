// POST /webapi/iam/host-cert: the agent's TLS server certificate, for its ECS task role only
// (lib/services/agent-host-certificate.ts decides). Behind API Gateway's AWS_IAM authorizer; a
// deployment without an agent configures nothing, and the route answers 404 as if it did not exist.
import * as z from 'zod';
import { AGENT_HOST_CERT_ROUTE } from '../../lib/core/agent-host-certificate.js';
import { type IamAuthorization, awsCallerIdentity } from '../../lib/core/aws-caller.js';
import { accessDenied, notFound, unauthenticated } from '../../lib/core/errors.js';
import {
  type AgentHostCertConfig,
  agentPublicKeySpki,
  certificateNames,
  issueAgentHostCertificate,
  parseRoleArn,
  requireAgentRole,
} from '../../lib/services/agent-host-certificate.js';
import type { ServiceDeps } from '../../lib/services/deps.js';
import { refuseReplayedSignature } from '../iam-caller.js';
import { type Route, json, parseBody } from '../http.js';

// Strict: a field the route does not know (host names, a TTL) is refused, not ignored.
const hostCertBody = z.object({ public_key: z.string().min(1).max(1024) }).strict();

export function hostCertRoutes(deps: ServiceDeps, config: AgentHostCertConfig | undefined): Route[] {
  // Checked once, at cold start: a bad role ARN or name is the stack's mistake, not the caller's.
  const role = config ? parseRoleArn(config.roleArn) : undefined;
  if (config && !role) throw new Error(`KUBEPORT_AGENT_ROLE_ARN ${JSON.stringify(config.roleArn)} is not an IAM role ARN`);
  const hostNames = config ? certificateNames(config.hostNames) : undefined;
  return [
    {
      method: 'POST',
      pattern: AGENT_HOST_CERT_ROUTE,
      handler: async (ctx) => {
        if (!role || !hostNames) throw notFound(`no route for POST ${AGENT_HOST_CERT_ROUTE}: this deployment has no agent`);
        const authorization = (ctx.event.requestContext as { authorization?: { iam?: IamAuthorization } }).authorization?.iam;
        if (!authorization) {
          throw unauthenticated(
            `${AGENT_HOST_CERT_ROUTE} takes only calls API Gateway verified with AWS IAM (SigV4), and this one carries no IAM authorization; deploy it with the AWS_IAM authorizer`,
          );
        }
        const { caller } = awsCallerIdentity(authorization, deps.clock.now());
        const deploymentAccount = ctx.event.requestContext.accountId;
        if (caller.account !== deploymentAccount || caller.account !== role.account) {
          throw accessDenied(`the agent's certificate is for the agent's role in account ${role.account}; ${authorization.userArn} is not`);
        }
        requireAgentRole(caller, authorization.userArn!, role);
        await refuseReplayedSignature(deps, ctx);
        const body = parseBody(hostCertBody, ctx.body);
        const spki = agentPublicKeySpki(body.public_key);
        return json(200, await issueAgentHostCertificate(deps, { hostNames }, caller, spki));
      },
    },
  ];
}
