// Who signed this API call (tctl, tsh kube ls): the same check for the auth and admin functions.
import { SIGNED_REQUEST_HEADER, apiAudience } from '../lib/core/signed-request.js';
import type { CertifiedIdentity } from '../lib/core/identity.js';
import type { ServiceDeps } from '../lib/services/deps.js';
import { verifySignedRequest } from '../lib/services/verify-signed-request.js';
import type { RouteContext } from './http.js';

export async function signedCaller(deps: ServiceDeps, ctx: RouteContext): Promise<CertifiedIdentity> {
  return verifySignedRequest(
    {
      token: ctx.event.headers[SIGNED_REQUEST_HEADER],
      audience: apiAudience(deps.clusterName),
      method: ctx.event.requestContext.http.method,
      path: ctx.pathAndQuery,
      body: ctx.body,
    },
    { trustedUserCaPems: await deps.cas.trusted('user'), clock: deps.clock, state: deps.state, resources: deps.resources },
  );
}
