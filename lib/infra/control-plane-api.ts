// The HTTP API in front of the auth and admin functions. Only the routes the functions serve
// exist, so anything else is answered 404 by API Gateway without invoking (or paying for) a
// function. Throttling is per route (API Gateway keeps one token bucket per route, the stage's
// default settings included), so the limits below bound what a flood of calls can cost, and a
// flood of one route never takes another's share: the break-glass route keeps its own.
import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AGENT_HOST_CERT_ROUTE } from '../core/agent-host-certificate.js';

/** A route of the auth function, as API Gateway keys it (`METHOD /path`). */
export interface ApiRoute {
  readonly method: apigw.HttpMethod;
  readonly path: string;
}

const { GET, POST, ANY } = apigw.HttpMethod;

/**
 * What the auth function serves (lambdas/auth/handler.ts, github-routes.ts, and the CA routes).
 * A new auth route is added here too, or API Gateway answers it 404.
 */
export const AUTH_ROUTES: readonly ApiRoute[] = [
  { method: GET, path: '/webapi/ping' },
  { method: POST, path: '/webapi/github/login/console' },
  { method: GET, path: '/webapi/github/callback' },
  // Teleport's callback path: an OAuth app set up for Teleport works unchanged.
  { method: GET, path: '/v1/webapi/github/callback' },
  { method: POST, path: '/webapi/github/login/headless' },
  { method: POST, path: '/webapi/github/login/headless/poll' },
  { method: POST, path: '/webapi/local/{proxy+}' },
  { method: GET, path: '/webapi/kube/clusters' },
  { method: POST, path: '/webapi/ca/rotate' },
  { method: GET, path: '/webapi/ca' },
];

/** Steady requests per second a route accepts, and the burst above it; beyond, API Gateway answers 429 and no function runs. */
export interface RouteThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** ping: every tsh login and CA refresh asks it first. */
export const PING_THROTTLE: RouteThrottle = { rateLimit: 10, burstLimit: 20 };
/** Each GitHub and local login route (console, callbacks, headless and its poll, local). */
export const LOGIN_THROTTLE: RouteThrottle = { rateLimit: 5, burstLimit: 10 };
/** Each other route: the certificate-signed ones (clusters, CA, tctl), a few people's tools. */
export const DEFAULT_ROUTE_THROTTLE: RouteThrottle = { rateLimit: 2, burstLimit: 10 };
/** Break-glass tctl: small, and its own, so a flood of the public routes never starves it. */
export const BREAK_GLASS_THROTTLE: RouteThrottle = { rateLimit: 1, burstLimit: 5 };
/** The agent's certificate: one call an hour per task, so a tight limit costs the agents nothing and bounds a stolen role's use. */
export const AGENT_HOST_CERT_THROTTLE: RouteThrottle = { rateLimit: 1, burstLimit: 2 };

const LOGIN_PATHS = /^\/(?:v1\/)?webapi\/(?:github|local)\//;

/** tctl's API, authenticated by the signed-request header. */
export const ADMIN_ROUTE: ApiRoute = { method: ANY, path: '/webapi/admin/{proxy+}' };
/** Break-glass tctl: the same admin API, authenticated by the caller's AWS credentials (SigV4). */
export const BREAK_GLASS_ROUTE: ApiRoute = { method: ANY, path: '/webapi/iam/admin/{proxy+}' };
/** The agent's TLS certificate, for its task role (SigV4), served by the auth function: only in a stack with an agent. */
export const AGENT_HOST_CERT_API_ROUTE: ApiRoute = { method: POST, path: AGENT_HOST_CERT_ROUTE };

export interface ControlPlaneApiProps {
  readonly authFunction: lambda.IFunction;
  readonly adminFunction: lambda.IFunction;
  /**
   * Each route's throttle, by route key (`GET /webapi/ping`). The limits hold per route, so the
   * worst a flood can cost is their sum: see {@link routeThrottles}.
   * @default routeThrottles(): ping 10/s, each login route 5/s, break-glass 1/s, the rest 2/s
   */
  readonly throttles?: ReadonlyMap<string, RouteThrottle>;
  /**
   * The stack has an agent: POST /webapi/iam/host-cert goes to the auth function behind the AWS_IAM
   * authorizer, with its own tight throttle. Grant the agent's task role with {@link ControlPlaneApi.grantAgentHostCert},
   * and give the auth function the role and names (ControlPlaneFunctionsProps.agentHostCert).
   * @default false: no such route; API Gateway answers it 404
   */
  readonly agentHostCert?: boolean;
  /**
   * How long access logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly accessLogRetention?: logs.RetentionDays;
  /**
   * What happens to the access log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class ControlPlaneApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** The IAM-authorized break-glass route (SigV4). */
  readonly breakGlassRoute: apigw.HttpRoute;
  /** The IAM-authorized route of the agent's certificate, in a stack with an agent. */
  readonly agentHostCertRoute?: apigw.HttpRoute;
  /** Every route, keyed `METHOD /path`. */
  readonly routes = new Map<string, apigw.HttpRoute>();

  constructor(scope: Construct, id: string, props: ControlPlaneApiProps) {
    super(scope, id);
    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'Kubeport: login, certificates and the tctl API',
      // The stage below carries the throttle and the access logs.
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      // Applies to each route on its own (not to the API as a whole); the routes below override it.
      throttle: DEFAULT_ROUTE_THROTTLE,
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(this.accessLogs), format: accessLogFormat() },
    });

    // One integration (and one invoke permission) per function, shared by its routes.
    const auth = new HttpLambdaIntegration('Auth', props.authFunction, { scopePermissionToRoute: false });
    const admin = new HttpLambdaIntegration('Admin', props.adminFunction, { scopePermissionToRoute: false });
    for (const route of AUTH_ROUTES) this.addRoute(route, auth);
    this.addRoute(ADMIN_ROUTE, admin);
    this.breakGlassRoute = this.addRoute(BREAK_GLASS_ROUTE, admin, new HttpIamAuthorizer());
    if (props.agentHostCert) this.agentHostCertRoute = this.addRoute(AGENT_HOST_CERT_API_ROUTE, auth, new HttpIamAuthorizer());

    const throttles = props.throttles ?? routeThrottles({ agentHostCert: props.agentHostCert === true });
    const cfnStage = this.stage.node.defaultChild as apigw.CfnStage;
    cfnStage.routeSettings = Object.fromEntries(
      [...throttles].map(([key, { rateLimit, burstLimit }]) => [key, { ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit }]),
    );
    // A route setting takes effect only once its route exists.
    for (const route of this.routes.values()) cfnStage.node.addDependency(route);
  }

  /** The API's base URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com (tsh login --proxy takes its host). */
  get url(): string {
    return this.api.apiEndpoint;
  }

  /**
   * Lets `grantee` (the agent's task role) call POST /webapi/iam/host-cert and nothing else of the
   * API: execute-api:Invoke on that one route of this API's stage.
   */
  grantAgentHostCert(grantee: iam.IGrantable): iam.Grant {
    if (!this.agentHostCertRoute) throw new Error('grantAgentHostCert: create the ControlPlaneApi with agentHostCert: true');
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi(AGENT_HOST_CERT_API_ROUTE.method, AGENT_HOST_CERT_API_ROUTE.path, this.stage.stageName)],
    });
  }

  private addRoute(route: ApiRoute, integration: HttpLambdaIntegration, authorizer?: HttpIamAuthorizer): apigw.HttpRoute {
    const key = `${route.method} ${route.path}`;
    const [created] = this.api.addRoutes({ path: route.path, methods: [route.method], integration, ...(authorizer ? { authorizer } : {}) });
    this.routes.set(key, created!);
    return created!;
  }
}

/** Every route's throttle, by route key: what the stage sets, and what the worst-case cost is computed from. */
export function routeThrottles(options: { agentHostCert?: boolean } = {}): Map<string, RouteThrottle> {
  const throttles = new Map<string, RouteThrottle>();
  for (const route of [...AUTH_ROUTES, ADMIN_ROUTE, BREAK_GLASS_ROUTE, ...(options.agentHostCert ? [AGENT_HOST_CERT_API_ROUTE] : [])]) {
    const key = `${route.method} ${route.path}`;
    throttles.set(
      key,
      route === AGENT_HOST_CERT_API_ROUTE
        ? AGENT_HOST_CERT_THROTTLE
        : route === BREAK_GLASS_ROUTE
          ? BREAK_GLASS_THROTTLE
          : route.path === '/webapi/ping'
            ? PING_THROTTLE
            : LOGIN_PATHS.test(route.path)
              ? LOGIN_THROTTLE
              : DEFAULT_ROUTE_THROTTLE,
    );
  }
  return throttles;
}

/** Requests a second the API lets through when every route is flooded at once: the sum of the route limits. */
export function floodRequestsPerSecond(throttles: ReadonlyMap<string, RouteThrottle> = routeThrottles()): number {
  return [...throttles.values()].reduce((sum, { rateLimit }) => sum + rateLimit, 0);
}

/** One JSON object per request: who called what, the answer, and how long it took. No headers, no bodies. */
function accessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: '$context.requestId',
      time: '$context.requestTime',
      sourceIp: '$context.identity.sourceIp',
      userAgent: '$context.identity.userAgent',
      route: '$context.routeKey',
      status: '$context.status',
      latencyMs: '$context.responseLatency',
      responseLength: '$context.responseLength',
      // Set on IAM-authorized (break-glass, agent certificate) routes: which AWS principal called.
      iamCaller: '$context.identity.userArn',
      integrationError: '$context.integrationErrorMessage',
    }),
  );
}
