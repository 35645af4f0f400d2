// API Gateway (HTTP API) with the AWS_IAM authorizer on its /webapi/iam/ routes, on loopback:
// it verifies SigV4 as AWS does, allows only principals granted the named permission
// (execute-api:Invoke on those routes), answers 403 {"message":"Forbidden"} as API Gateway does
// otherwise, and passes a verified call to the function with requestContext.authorization.iam.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EventHandler, type GatewayAuthorizer, createApiGatewayServer } from '../../lib/adapters/local/api-gateway-adapter.js';
import { IAM_ROUTES_PREFIX, type IamAuthorization } from '../../lib/core/aws-caller.js';
import { verifySigV4 } from './sigv4-verifier.js';

export interface IamPrincipal {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** The caller's ARN as IAM names it (an IAM user, or an assumed-role session). */
  userArn: string;
  /** Whether an IAM policy grants it execute-api:Invoke on the /webapi/iam/ routes (the stack's break-glass policy). */
  granted: boolean;
}

export interface IamApiGatewayOptions {
  region: string;
  principals: IamPrincipal[];
  /** The function behind each path, as API Gateway's routes choose it. */
  route(path: string): EventHandler;
  now?: () => Date;
  /** false: the IAM routes deployed without the authorizer (a misconfiguration the function must survive). */
  authorizer?: boolean;
  /** Each refusal and its reason, as CloudTrail would not show it but a test wants to. */
  onRefusal?: (reason: string) => void;
  /**
   * The account that owns the API (the deployment's), reported as requestContext.accountId.
   * @default STAND_IN_ACCOUNT
   */
  deploymentAccount?: string;
}

/** The account the stand-in's API is deployed in, unless a test says otherwise. */
export const STAND_IN_ACCOUNT = '111122223333';

export interface IamApiGateway {
  /** host:port for tctl --proxy. */
  proxy: string;
  close(): Promise<void>;
}

const FORBIDDEN = {
  statusCode: 403,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message: 'Forbidden' }),
};

/** The authorizer alone: what API Gateway checks before any function runs. */
export function iamAuthorizer(options: Omit<IamApiGatewayOptions, 'route'>): GatewayAuthorizer {
  const byKey = new Map(options.principals.map((p) => [p.accessKeyId, p]));
  const now = options.now ?? (() => new Date());
  return async (req: http.IncomingMessage, body: Buffer) => {
    if (options.authorizer === false || !(req.url ?? '').startsWith(IAM_ROUTES_PREFIX)) return {};
    const verdict = verifySigV4(
      { method: req.method ?? 'GET', url: req.url ?? '/', headers: pairs(req.rawHeaders), body },
      { service: 'execute-api', region: options.region, now: now(), credential: (id) => byKey.get(id) },
    );
    if (!verdict.ok) {
      options.onRefusal?.(verdict.reason);
      return { refusal: FORBIDDEN };
    }
    const principal = byKey.get(verdict.accessKeyId)!;
    if (!principal.granted) {
      options.onRefusal?.(`${principal.userArn} is not granted execute-api:Invoke on ${req.url}`);
      return { refusal: FORBIDDEN };
    }
    return { authorization: { iam: iamContext(principal) }, accountId: options.deploymentAccount ?? STAND_IN_ACCOUNT };
  };
}

export async function startIamApiGateway(options: IamApiGatewayOptions): Promise<IamApiGateway> {
  const server = createApiGatewayServer(options.route, () => undefined, { authorizer: iamAuthorizer(options) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    proxy: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What API Gateway reports of a verified caller (payload v2, requestContext.authorization.iam). */
export function iamContext(principal: Pick<IamPrincipal, 'accessKeyId' | 'userArn'>): IamAuthorization {
  const account = principal.userArn.split(':')[4] ?? '';
  const session = /assumed-role\/[^/]+\/(.+)$/.exec(principal.userArn)?.[1];
  // IAM's unique ids: AIDA… for users, AROA…:session for role sessions.
  const userId = session ? `AROAEXAMPLEROLEID:${session}` : 'AIDAEXAMPLEUSERID';
  return {
    accessKey: principal.accessKeyId,
    accountId: account,
    callerId: userId,
    principalOrgId: null,
    userArn: principal.userArn,
    userId,
  };
}

function pairs(raw: string[]): [string, string][] {
  const result: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) result.push([raw[i]!, raw[i + 1]!]);
  return result;
}
