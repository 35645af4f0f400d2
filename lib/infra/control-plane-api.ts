// The HTTP API in front of the auth and admin functions. Only the routes the functions serve
// exist, so anything else is answered 404 by API Gateway without invoking (or paying for) a
// function. The stage's throttle bounds what a flood of calls can cost.
import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

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

/** tctl's API, authenticated by the signed-request header. */
export const ADMIN_ROUTE: ApiRoute = { method: ANY, path: '/webapi/admin/{proxy+}' };
/** Break-glass tctl: the same admin API, authenticated by the caller's AWS credentials (SigV4). */
export const BREAK_GLASS_ROUTE: ApiRoute = { method: ANY, path: '/webapi/iam/admin/{proxy+}' };

export interface ControlPlaneApiProps {
  readonly authFunction: lambda.IFunction;
  readonly adminFunction: lambda.IFunction;
  /**
   * Steady requests per second the whole API accepts; beyond it callers get 429 and no function
   * runs. At 20/s a month of non-stop abuse is at most ~52M requests (~$52 of API Gateway).
   * @default 20
   */
  readonly throttleRateLimit?: number;
  /**
   * Requests accepted in a burst above the steady rate.
   * @default 40
   */
  readonly throttleBurstLimit?: number;
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
      throttle: { rateLimit: props.throttleRateLimit ?? 20, burstLimit: props.throttleBurstLimit ?? 40 },
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(this.accessLogs), format: accessLogFormat() },
    });

    // One integration (and one invoke permission) per function, shared by its routes.
    const auth = new HttpLambdaIntegration('Auth', props.authFunction, { scopePermissionToRoute: false });
    const admin = new HttpLambdaIntegration('Admin', props.adminFunction, { scopePermissionToRoute: false });
    for (const route of AUTH_ROUTES) this.addRoute(route, auth);
    this.addRoute(ADMIN_ROUTE, admin);
    this.breakGlassRoute = this.addRoute(BREAK_GLASS_ROUTE, admin, new HttpIamAuthorizer());
  }

  /** The API's base URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com (tsh login --proxy takes its host). */
  get url(): string {
    return this.api.apiEndpoint;
  }

  private addRoute(route: ApiRoute, integration: HttpLambdaIntegration, authorizer?: HttpIamAuthorizer): apigw.HttpRoute {
    const key = `${route.method} ${route.path}`;
    const [created] = this.api.addRoutes({ path: route.path, methods: [route.method], integration, ...(authorizer ? { authorizer } : {}) });
    this.routes.set(key, created!);
    return created!;
  }
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
      // Set on IAM-authorized (break-glass) routes: which AWS principal called.
      iamCaller: '$context.identity.userArn',
      integrationError: '$context.integrationErrorMessage',
    }),
  );
}
