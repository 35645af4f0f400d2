// Who an AWS-signed admin call (tctl --aws-iam, the break-glass path) speaks for: the IAM
// principal API Gateway's AWS_IAM authorizer verified, as a Kubeport identity. IAM decides who
// may call at all (execute-api:Invoke on the /webapi/iam/admin/ routes); Kubeport names the
// caller in every audit event it writes.
import { unauthenticated } from './errors.js';
import type { CertifiedIdentity } from './identity.js';

/** Where API Gateway's AWS_IAM authorizer guards routes: ANY /webapi/iam/admin/{proxy+} (break-glass), POST /webapi/iam/host-cert (the agent). */
export const IAM_ROUTES_PREFIX = '/webapi/iam/';
/** The admin routes again, for IAM-verified callers: /webapi/admin/X is /webapi/iam/admin/X. */
export const IAM_ADMIN_PREFIX = '/webapi/iam/admin';
export const SIGNED_ADMIN_PREFIX = '/webapi/admin';
/** What tctl tells a refused caller to get: the stack's managed policy (execute-api:Invoke on IAM_ADMIN_PREFIX/*), by its output. */
export const BREAK_GLASS_POLICY_HINT = 'the managed policy the stack outputs as BreakGlassPolicyArn';

/** The connector of every identity built from an IAM principal; no GitHub connector may take it. */
export const AWS_IAM_CONNECTOR = 'aws-iam';

/** The role an IAM break-glass caller acts with. */
export const AWS_IAM_ROLES: readonly string[] = ['editor'];

/** What API Gateway puts in requestContext.authorization.iam (payload v2) for a verified caller. */
export interface IamAuthorization {
  accessKey?: string;
  accountId?: string;
  callerId?: string;
  principalOrgId?: string | null;
  userArn?: string;
  userId?: string;
}

export interface AwsCaller {
  /** `aws:` and the caller's ARN, rebuilt from its parts: what audit events name as the user. */
  username: string;
  /**
   * The principal that holds the IAM permission: the role of an assumed-role session (whose
   * session name the caller chose), else the ARN itself. A lock on `aws:<principal>` holds every
   * session of that role.
   */
  principal: string;
  account: string;
  /** The session name of an assumed role. */
  session?: string;
}

const PARTITION = /^aws(-[a-z]+)*$/;
const ACCOUNT = /^\d{12}$/;
// IAM's own character sets for names and session names, and for paths.
const NAME = /^[\w+=,.@-]{1,128}$/;
const PATH_AND_NAME = /^[\w+=,.@/-]{1,512}$/;

/**
 * The caller an IAM user, assumed-role, federated-user or root ARN names. Anything else (a role
 * ARN cannot sign, a service principal does not reach this route) is refused.
 */
export function awsCallerFromArn(arn: string): AwsCaller {
  const parts = arn.split(':');
  const refuse = () => unauthenticated(`the IAM caller ARN ${JSON.stringify(arn.slice(0, 200))} is not a user, role session or root ARN`);
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[3] !== '') throw refuse();
  const [, partition, service, , account, resource] = parts as [string, string, string, string, string, string];
  if (!PARTITION.test(partition) || !ACCOUNT.test(account)) throw refuse();
  const iamArn = (path: string) => `arn:${partition}:iam::${account}:${path}`;
  const caller = (principal: string, session?: string): AwsCaller => ({
    username: `aws:${service === 'sts' ? `arn:${partition}:sts::${account}:${resource}` : principal}`,
    principal,
    account,
    ...(session !== undefined ? { session } : {}),
  });
  if (service === 'iam' && resource === 'root') return caller(iamArn('root'));
  if (service === 'iam' && resource.startsWith('user/')) {
    const path = resource.slice('user/'.length);
    if (!PATH_AND_NAME.test(path) || path.startsWith('/') || path.endsWith('/') || path.includes('//')) throw refuse();
    return caller(iamArn(`user/${path}`));
  }
  if (service === 'sts' && resource.startsWith('assumed-role/')) {
    const [role, session, extra] = resource.slice('assumed-role/'.length).split('/');
    if (extra !== undefined || !role || !session || !NAME.test(role) || !NAME.test(session)) throw refuse();
    // The session's ARN has no role path; the role's name alone is unique in its account.
    return caller(iamArn(`role/${role}`), session);
  }
  if (service === 'sts' && resource.startsWith('federated-user/')) {
    const name = resource.slice('federated-user/'.length);
    if (!NAME.test(name)) throw refuse();
    return caller(`arn:${partition}:sts::${account}:federated-user/${name}`);
  }
  throw refuse();
}

/**
 * The identity an IAM-authorized admin call acts as. It lives for the one call: notBefore and
 * notAfter are the request's time, and nothing stored stands behind it (IAM is its user store).
 */
export function awsCallerIdentity(authorization: IamAuthorization, now: Date): { caller: AwsCaller; identity: CertifiedIdentity } {
  if (typeof authorization.userArn !== 'string' || authorization.userArn === '') {
    throw unauthenticated('the IAM authorization names no caller ARN');
  }
  const caller = awsCallerFromArn(authorization.userArn);
  if (authorization.accountId !== undefined && authorization.accountId !== caller.account) {
    throw unauthenticated(`the IAM authorization's account ${authorization.accountId} is not the account of ${authorization.userArn}`);
  }
  const traits: Record<string, string[]> = { aws_account: [caller.account], aws_principal: [caller.principal] };
  if (caller.session !== undefined) traits.aws_session = [caller.session];
  if (authorization.accessKey) traits.aws_access_key = [authorization.accessKey];
  return {
    caller,
    identity: {
      username: caller.username,
      roles: [...AWS_IAM_ROLES],
      traits,
      connector: AWS_IAM_CONNECTOR,
      accessRequests: [],
      issuedAt: now.toISOString(),
      notBefore: now,
      notAfter: now,
      serialNumber: '',
    },
  };
}

/**
 * How long a SigV4 signature is remembered against replay, either side of its X-Amz-Date: API
 * Gateway accepts one for five minutes (AWS's documented SigV4 window); fifteen, the most any
 * AWS service allows, keeps a replay refused even if that window ever widens.
 */
export const SIGV4_DATE_WINDOW_MS = 15 * 60_000;

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * The SigV4 signature a request carries (Authorization header or presigned query), lower-cased,
 * so the handler can refuse the same signature twice within the window API Gateway accepts it.
 * A signature the handler cannot read is refused rather than let through unrecorded: one AWS
 * accepted in another spelling (upper-case hex, percent-encoded) would otherwise be replayable.
 */
export function sigV4Signature(authorizationHeader: string | undefined, rawQuery: string): string {
  const refuse = (what: string) =>
    unauthenticated(`${what}, so it cannot be guarded against replay (refused); sign the call with an AWS SDK or tctl --aws-iam`);
  const header = authorizationHeader?.trim() ?? '';
  let fromHeader: string | undefined;
  if (header !== '') {
    const values = [...header.matchAll(/(?:^|[\s,])Signature=([^,\s]*)/g)].map((m) => m[1]!);
    if (!/^AWS4-HMAC-SHA256\s/i.test(header) || values.length !== 1 || !HEX_SHA256.test(values[0]!)) {
      throw refuse('the Authorization header is not an AWS4-HMAC-SHA256 signature with one hex Signature');
    }
    fromHeader = values[0]!.toLowerCase();
  }
  const fromQuery: string[] = [];
  for (const pair of rawQuery === '' ? [] : rawQuery.split('&')) {
    const at = pair.indexOf('=');
    const [name, value] = (at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)]).map(decodedOrRaw) as [string, string];
    if (name.toLowerCase() === 'x-amz-signature') fromQuery.push(value);
  }
  if (fromQuery.length > 0) {
    if (fromQuery.length !== 1 || !HEX_SHA256.test(fromQuery[0]!)) throw refuse('X-Amz-Signature is not one hex SHA-256 signature');
    if (fromHeader !== undefined) throw refuse('the call is signed both in the Authorization header and in the query');
    return fromQuery[0]!.toLowerCase();
  }
  if (fromHeader === undefined) throw refuse('the call carries no SigV4 signature (no Authorization header, no X-Amz-Signature)');
  return fromHeader;
}

// A malformed escape stays as it came, and then fails the hex check.
function decodedOrRaw(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** RFC 3986 percent-encoding, as SigV4 canonicalizes paths and queries: only unreserved characters stay. */
export function sigV4UriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
