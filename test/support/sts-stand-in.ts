// AWS STS on loopback for GetCallerIdentity (and AssumeRole, for a cluster in another account), in both forms the real STS takes: a GET with a
// presigned query (what an EKS token carries) and a POST signed in the Authorization header (what
// @aws-sdk/client-sts sends). Signatures are checked by sigv4-verifier.ts against a table of known
// identities; as STS, it takes only us-east-1 signatures for the global host, answers ExpiredToken
// for assumed-role credentials past their Expiration, and (given `permits`) assumes a role of another
// account only when the caller's own policy allows it too. verifyEksToken checks a bearer token the
// way EKS's authenticator does before asking STS, so the Kubernetes stand-in accepts tokens only through it.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { awsCallerFromArn } from '../../lib/core/aws-caller.js';
import { verifySigV4, type WireRequest } from './sigv4-verifier.js';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** aws-iam-authenticator refuses longer tokens before decoding them. */
export const EKS_TOKEN_MAX_LENGTH = 4 * 1024;
/** A token is accepted this long after its X-Amz-Date (EKS; STS ignores X-Amz-Expires for it). */
export const EKS_TOKEN_LIFETIME_MS = 15 * 60_000;
const MAX_PRESIGN_EXPIRES_S = 60;
// The only query parameters the authenticator lets through to STS (compared lowercased).
const ALLOWED_TOKEN_PARAMETERS = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
]);

export interface StsIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** The caller's ARN as STS answers it: an assumed-role session ARN for a role's credentials. */
  arn: string;
  /** AROA…:session for a role session, AIDA… for a user. */
  userId: string;
  /** When temporary credentials stop working (AssumeRole's Expiration); STS answers ExpiredToken from then on. */
  expiration?: Date;
}

/** The agent's task role session, as tests give it to the stand-in and to the token source. */
export const AGENT_TASK_ROLE: StsIdentity = {
  accessKeyId: 'ASIAAGENTTASKROLE',
  secretAccessKey: 'agent-task-role-secret',
  sessionToken: 'agent-session-token',
  arn: 'arn:aws:sts::111122223333:assumed-role/kubeport-agent/task-1',
  userId: 'AROAAGENT:task-1',
};

export interface EksTokenIdentity {
  /** The ARN STS returned (an assumed-role session ARN for a role). */
  arn: string;
  /** The principal an access entry names: the role ARN of a session, else the ARN itself. */
  principalArn: string;
  accountId: string;
  userId: string;
}

export interface EksTokenCheck {
  clusterName: string;
  now: Date;
  identities: readonly StsIdentity[];
  region: string;
  /** Origins (scheme://host[:port]) taken as STS besides the real regional and global ones: the stand-in's own. */
  extraStsOrigins?: readonly string[];
  /** How long after its X-Amz-Date a token is accepted; default EKS's 15 minutes (tests shorten it). */
  lifetimeMs?: number;
}

export class StsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const accountOf = (arn: string) => arn.split(':')[4] ?? '';

/** STS's global endpoint, whose signatures must be scoped to us-east-1 (AWS's rule for a global endpoint). */
export const GLOBAL_STS_HOST = 'sts.amazonaws.com';
const GLOBAL_STS_REGION = 'us-east-1';

/** The region a request's credential scope names (presigned query or Authorization header). */
function scopeRegion(request: WireRequest, query: URLSearchParams): string | undefined {
  const credential =
    query.get('X-Amz-Credential') ?? /\bCredential=([^,\s]+)/.exec(headerValue(request.headers, 'authorization') ?? '')?.[1];
  return credential?.split('/')[2];
}

function headerValue(headers: WireRequest['headers'], name: string): string | undefined {
  const entries: [string, string | string[] | undefined][] = Array.isArray(headers) ? headers : Object.entries(headers);
  const value = entries.find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
}

/** Checks a signed GetCallerIdentity request as STS does; returns the caller. */
export function callerIdentity(request: WireRequest, options: SignedCallOptions): StsIdentity {
  const { caller, parameters } = signedCall(request, options);
  if (parameters.get('Action') !== 'GetCallerIdentity') {
    throw new StsError(400, 'InvalidAction', `Could not find operation ${parameters.get('Action') ?? ''} for version 2011-06-15`);
  }
  return caller;
}

interface SignedCallOptions {
  now: Date;
  region: string;
  identities: readonly StsIdentity[];
  /** A presigned call's window after its X-Amz-Date; default EKS_TOKEN_LIFETIME_MS. */
  lifetimeMs?: number;
}

/** The signed caller of any STS call, and the call's parameters (query, or form body of a POST). */
function signedCall(request: WireRequest, options: SignedCallOptions): { caller: StsIdentity; parameters: URLSearchParams } {
  const query = new URLSearchParams(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '');
  const form = request.method === 'POST' ? new URLSearchParams(Buffer.from(request.body).toString('utf8')) : query;
  if (form.get('Version') !== '2011-06-15') throw new StsError(400, 'InvalidAction', 'Could not find operation for this version');
  // The global endpoint takes only us-east-1 signatures; a regional one (the stand-in's own) its region's.
  const global = headerValue(request.headers, 'host')?.toLowerCase() === GLOBAL_STS_HOST;
  const region = global ? GLOBAL_STS_REGION : options.region;
  if (global && scopeRegion(request, query) !== GLOBAL_STS_REGION) {
    throw new StsError(403, 'SignatureDoesNotMatch', 'Credential should be scoped to a valid region. ');
  }
  let verifierNow = options.now;
  const amzDate = query.get('X-Amz-Date');
  if (query.has('X-Amz-Signature') && amzDate !== null) {
    // STS ignores X-Amz-Expires on a presigned GetCallerIdentity and keeps it valid for 15
    // minutes; the verifier's own expiry check is given the signing time, the window is kept here.
    const signedAt = parseAmzDate(amzDate);
    if (signedAt !== undefined) {
      if (options.now.getTime() > signedAt.getTime() + (options.lifetimeMs ?? EKS_TOKEN_LIFETIME_MS)) {
        throw new StsError(403, 'ExpiredToken', 'The security token included in the request is expired');
      }
      verifierNow = new Date(Math.min(options.now.getTime(), signedAt.getTime()));
    }
  }
  const known = new Map(options.identities.map((identity) => [identity.accessKeyId, identity]));
  const verdict = verifySigV4(request, {
    service: 'sts',
    region,
    now: verifierNow,
    credential: (id) => {
      const identity = known.get(id);
      return (
        identity && {
          secretAccessKey: identity.secretAccessKey,
          ...(identity.sessionToken !== undefined ? { sessionToken: identity.sessionToken } : {}),
        }
      );
    },
  });
  if (!verdict.ok) {
    const code = /not known/.test(verdict.reason)
      ? 'InvalidClientTokenId'
      : /expired/.test(verdict.reason)
        ? 'ExpiredToken'
        : 'SignatureDoesNotMatch';
    throw new StsError(403, code, verdict.reason);
  }
  const caller = known.get(verdict.accessKeyId)!;
  // Checked at the call, not the signing: a token presigned before its session expired fails after.
  if (caller.expiration !== undefined && options.now.getTime() >= caller.expiration.getTime()) {
    throw new StsError(403, 'ExpiredToken', 'The security token included in the request is expired');
  }
  return { caller, parameters: form };
}

/** Decodes and checks an EKS bearer token, then asks STS (this stand-in's check) who signed it. */
export function verifyEksToken(token: string, check: EksTokenCheck): EksTokenIdentity {
  const refuse = (reason: string): never => {
    throw new StsError(401, 'Unauthorized', `the EKS token is refused: ${reason}`);
  };
  if (token.length > EKS_TOKEN_MAX_LENGTH) refuse('it is longer than 4 KiB');
  if (!token.startsWith(EKS_TOKEN_PREFIX)) refuse(`it does not start with ${EKS_TOKEN_PREFIX}`);
  const encoded = token.slice(EKS_TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) refuse('it is not base64url');
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return refuse('it does not hold a URL');
  }
  const stsOrigins = new Set([`https://sts.amazonaws.com`, `https://sts.${check.region}.amazonaws.com`, ...(check.extraStsOrigins ?? [])]);
  if (!stsOrigins.has(url.origin)) refuse(`${url.host} is not an STS endpoint`);
  if (url.pathname !== '/') refuse('the path is not /');
  const lowered = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    const key = name.toLowerCase();
    if (!ALLOWED_TOKEN_PARAMETERS.has(key)) refuse(`the query parameter ${name} is not allowed`);
    if (lowered.has(key)) refuse(`the query parameter ${name} is given twice`);
    lowered.set(key, value);
  }
  if (lowered.get('action') !== 'GetCallerIdentity') refuse('the action is not GetCallerIdentity');
  const signedHeaders = (lowered.get('x-amz-signedheaders') ?? '').split(';');
  if (!signedHeaders.includes('x-k8s-aws-id')) refuse('x-k8s-aws-id is not a signed header');
  const expires = Number(lowered.get('x-amz-expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_EXPIRES_S) refuse('X-Amz-Expires is not 1 to 60 seconds');
  const signedAt = parseAmzDate(lowered.get('x-amz-date') ?? '') ?? refuse('X-Amz-Date is missing or malformed');
  const lifetimeMs = check.lifetimeMs ?? EKS_TOKEN_LIFETIME_MS;
  if (check.now.getTime() > signedAt.getTime() + lifetimeMs) refuse(`X-Amz-Date is expired (${lifetimeMs / 60_000} minute expiration)`);

  let caller: StsIdentity;
  try {
    caller = callerIdentity(
      {
        method: 'GET',
        url: url.pathname + url.search,
        headers: { host: url.host, 'x-k8s-aws-id': check.clusterName },
        body: new Uint8Array(),
      },
      check,
    );
  } catch (error) {
    if (error instanceof StsError) return refuse(`STS answered ${error.code}: ${error.message}`);
    throw error;
  }
  return { arn: caller.arn, principalArn: awsCallerFromArn(caller.arn).principal, accountId: accountOf(caller.arn), userId: caller.userId };
}

function parseAmzDate(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}

export interface StsStandInOptions {
  /** @default 'us-east-1' */
  region?: string;
  identities: StsIdentity[];
  now: () => Date;
  /** Who may assume which role: role ARN to the principal ARNs (role ARN of a session) its trust policy names. */
  trusts?: Record<string, string[]>;
  /**
   * What each caller's own identity policy lets it assume: principal ARN (role ARN of a session)
   * to role ARNs. When given, a role in another account is assumed only if both this and the
   * role's trust policy allow it, as AWS requires; within one account the trust policy naming
   * the principal suffices. Absent: identity policies are not modelled.
   */
  permits?: Record<string, string[]>;
  /** How long an EKS token is accepted after its X-Amz-Date; default 15 minutes. Short lives make tokens expire under a test. */
  tokenLifetimeMs?: number;
}

export interface StsStandIn {
  url: string;
  region: string;
  /** Requests answered, refused ones included. */
  calls: number;
  verifyEksToken(token: string, clusterName: string): EksTokenIdentity;
  close(): Promise<void>;
}

const xmlEscape = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startStsStandIn(options: StsStandInOptions): Promise<StsStandIn> {
  const region = options.region ?? 'us-east-1';
  let calls = 0;
  const answer = (response: ServerResponse, status: number, body: string) => {
    response.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  };
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    calls += 1;
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const requestId = randomUUID();
    try {
      const pairs: [string, string][] = [];
      for (let i = 0; i < request.rawHeaders.length; i += 2) pairs.push([request.rawHeaders[i]!, request.rawHeaders[i + 1]!]);
      const { caller, parameters } = signedCall(
        { method: request.method ?? 'GET', url: request.url ?? '/', headers: pairs, body: Buffer.concat(chunks) },
        {
          now: options.now(),
          region,
          identities: options.identities,
          ...(options.tokenLifetimeMs === undefined ? {} : { lifetimeMs: options.tokenLifetimeMs }),
        },
      );
      const action = parameters.get('Action');
      if (action === 'AssumeRole') {
        answer(response, 200, assumeRole(caller, parameters, requestId));
        return;
      }
      if (action !== 'GetCallerIdentity') {
        throw new StsError(400, 'InvalidAction', `Could not find operation ${action ?? ''} for version 2011-06-15`);
      }
      answer(
        response,
        200,
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
          `<Arn>${xmlEscape(caller.arn)}</Arn><UserId>${xmlEscape(caller.userId)}</UserId><Account>${accountOf(caller.arn)}</Account>` +
          `</GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    } catch (error) {
      const failure = error instanceof StsError ? error : new StsError(500, 'InternalFailure', 'internal error');
      answer(
        response,
        failure.status,
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>` +
          `<Code>${failure.code}</Code><Message>${xmlEscape(failure.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    }
  };
  const assumeRole = (caller: StsIdentity, parameters: URLSearchParams, requestId: string): string => {
    const roleArn = parameters.get('RoleArn') ?? '';
    const sessionName = parameters.get('RoleSessionName') ?? '';
    const principal = awsCallerFromArn(caller.arn).principal;
    const crossAccount = accountOf(roleArn) !== accountOf(caller.arn);
    if (options.permits !== undefined && crossAccount && !(options.permits[principal] ?? []).includes(roleArn)) {
      throw new StsError(
        403,
        'AccessDenied',
        `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn} because no identity-based policy allows the sts:AssumeRole action`,
      );
    }
    if (!(options.trusts?.[roleArn] ?? []).includes(principal)) {
      throw new StsError(403, 'AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    }
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) throw new StsError(400, 'ValidationError', 'RoleSessionName is not a valid session name');
    const roleName = roleArn.split('/').at(-1) ?? '';
    // STS states the Expiration to the second (2026-12-03T05:00:00Z).
    const expiresMs = options.now().getTime() + Number(parameters.get('DurationSeconds') ?? '3600') * 1000;
    const expiration = new Date(Math.floor(expiresMs / 1000) * 1000);
    const assumed: StsIdentity = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(20).toString('base64'),
      sessionToken: randomBytes(32).toString('base64'),
      arn: `arn:aws:sts::${accountOf(roleArn)}:assumed-role/${roleName}/${sessionName}`,
      userId: `AROA${roleName.toUpperCase()}:${sessionName}`,
      expiration,
    };
    options.identities.push(assumed);
    return (
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
      `<AssumedRoleUser><Arn>${xmlEscape(assumed.arn)}</Arn><AssumedRoleId>${xmlEscape(assumed.userId)}</AssumedRoleId></AssumedRoleUser>` +
      `<Credentials><AccessKeyId>${assumed.accessKeyId}</AccessKeyId><SecretAccessKey>${assumed.secretAccessKey}</SecretAccessKey>` +
      `<SessionToken>${assumed.sessionToken}</SessionToken><Expiration>${expiration.toISOString().replace('.000Z', 'Z')}</Expiration></Credentials>` +
      `</AssumeRoleResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleResponse>`
    );
  };
  const server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    region,
    get calls() {
      return calls;
    },
    verifyEksToken: (token, clusterName) =>
      verifyEksToken(token, {
        clusterName,
        now: options.now(),
        identities: options.identities,
        region,
        extraStsOrigins: [url],
        ...(options.tokenLifetimeMs === undefined ? {} : { lifetimeMs: options.tokenLifetimeMs }),
      }),
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
