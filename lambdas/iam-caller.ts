// Who an IAM-authorized admin call (ANY /webapi/iam/admin/{proxy+}, tctl --aws-iam) speaks for:
// the principal API Gateway's AWS_IAM authorizer verified. The authorizer is the gate; this
// refuses an event without its context, in case the route is ever deployed without it, and a
// caller from any account but the one the API is deployed in, in case a policy ever lets one in.
import { type IamAuthorization, SIGV4_DATE_WINDOW_MS, awsCallerIdentity, sigV4Signature } from '../lib/core/aws-caller.js';
import { KubeportError, accessDenied, unauthenticated } from '../lib/core/errors.js';
import type { CertifiedIdentity } from '../lib/core/identity.js';
import type { ServiceDeps } from '../lib/services/deps.js';
import { refuseIfLocked } from '../lib/services/lock-enforcement.js';
import type { RouteContext } from './http.js';

export async function iamCaller(deps: ServiceDeps, ctx: RouteContext): Promise<CertifiedIdentity> {
  const authorization = (ctx.event.requestContext as { authorization?: { iam?: IamAuthorization } }).authorization?.iam;
  if (!authorization) {
    throw unauthenticated(
      'this route takes only calls API Gateway verified with AWS IAM (SigV4), and this one carries no IAM authorization; ' +
        'deploy /webapi/iam/admin/{proxy+} with the AWS_IAM authorizer, and sign calls with tctl --aws-iam (certificate-signed calls go to /webapi/admin/)',
    );
  }
  const now = deps.clock.now();
  const { caller, identity } = awsCallerIdentity(authorization, now);
  // API Gateway reports the account that owns the API: this deployment's.
  const deploymentAccount = ctx.event.requestContext.accountId;
  if (caller.account !== deploymentAccount) {
    throw accessDenied(
      `break-glass is for principals of the account Kubeport is deployed in (${deploymentAccount}); ${caller.principal} belongs to ${caller.account}: use a role in ${deploymentAccount}`,
    );
  }
  // A lock on the session's user or on its role holds; locks on roles (editor) do not, or one
  // lock could shut out the path meant for getting back in. IAM itself is this path's real gate.
  for (const username of new Set([caller.username, `aws:${caller.principal}`])) {
    await refuseIfLocked(deps, { username, roles: [], traits: {}, accessRequests: [] });
  }
  await refuseReplayedSignature(deps, ctx);
  return identity;
}

/**
 * Remembers the call's SigV4 signature for the window API Gateway would accept it in, and refuses
 * it the second time: a captured signed request cannot be sent again (every IAM-authorized route).
 * A call whose signature cannot be read is refused (see sigV4Signature), never served unrecorded.
 */
export async function refuseReplayedSignature(deps: Pick<ServiceDeps, 'state' | 'clock'>, ctx: RouteContext): Promise<void> {
  const signature = sigV4Signature(ctx.event.headers?.authorization, ctx.event.rawQueryString ?? '');
  const now = deps.clock.now();
  const fresh = await deps.state.putIfAbsent(`sigv4#${signature}`, 1, new Date(now.getTime() + 2 * SIGV4_DATE_WINDOW_MS));
  if (!fresh) throw new KubeportError('unauthenticated', 'this AWS signature was already used (replay refused); sign each call anew');
}
