// Template assertions on the whole stack. Two syntheses, shared by every test: the defaults, which
// bundles the three functions with esbuild as `cdk synth` does, and the full GitHub context, which
// skips bundling (the bundles are the same; esbuild takes seconds per function on a busy machine).
import { App, Aspects, type CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adminEnvironmentSchema,
  authEnvironmentSchema,
  caBootstrapEnvironmentSchema,
} from '../../lib/adapters/aws/function-environment.js';
import { AUDIT_COLUMNS } from '../../lib/infra/audit-catalog.js';
import { CA_BOOTSTRAP_RESOURCE_TYPE } from '../../lib/infra/ca-bootstrap.js';
import {
  AUTH_ROUTES,
  BREAK_GLASS_THROTTLE,
  DEFAULT_ROUTE_THROTTLE,
  LOGIN_THROTTLE,
  PING_THROTTLE,
  floodRequestsPerSecond,
} from '../../lib/infra/control-plane-api.js';
import { KubeportStack, type KubeportStackProps } from '../../lib/infra/kubeport-stack.js';
import { Storage } from '../../lib/infra/storage.js';
import { caKeyPolicyDocument } from '../../lib/adapters/aws/ca-key-policy.js';
import { policyAllows, principalDenied } from '../support/kms-policy-evaluation.js';
import { TEST_ACCOUNT, concrete, policyStatements, resourcesOfType, type Statement } from './template-reading.js';

interface Synthesized {
  stack: KubeportStack;
  template: Template;
  resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;
  logicalId(construct: { node: { defaultChild?: unknown } }): string;
}

function synthesize(props: KubeportStackProps, { bundle }: { bundle: boolean }): Synthesized {
  const app = new App(bundle ? {} : { context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new KubeportStack(app, 'Kubeport', props);
  Aspects.of(app).add(new AwsSolutionsChecks());
  const template = Template.fromStack(stack);
  return {
    stack,
    template,
    resources: template.toJSON().Resources,
    logicalId: (construct) => stack.getLogicalId(construct.node.defaultChild as CfnElement),
  };
}

const GITHUB = {
  clientId: 'Ov23liAbCdEf012345',
  clientSecretName: 'kubeport/github-client-secret',
  adminTeams: ['acme/platform', 'acme/sre'],
};

let plain: Synthesized;
let withGitHub: Synthesized;

beforeAll(() => {
  plain = synthesize({}, { bundle: true });
  withGitHub = synthesize({ github: GITHUB, alarmEmail: 'ops@example.com', reservedConcurrency: true }, { bundle: false });
}, 180_000);

const getAtt = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

function expectNagClean(stack: Stack) {
  const findings = [
    ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
  ];
  expect(findings.map((finding) => `${finding.id}: ${String(finding.entry.data).slice(0, 120)}`)).toEqual([]);
}

describe('the stack with no context', () => {
  it('passes cdk-nag AwsSolutions, every suppression with its reason', () => {
    expectNagClean(plain.stack);
    const suppressions = Object.values(
      plain.template.toJSON().Resources as Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress: { reason: string }[] } } }>,
    ).flatMap((resource) => resource.Metadata?.cdk_nag?.rules_to_suppress ?? []);
    expect(suppressions.length).toBeGreaterThan(0);
    for (const suppression of suppressions) expect(suppression.reason.length).toBeGreaterThan(40);
  });

  it('lets only the auth and CA bootstrap roles sign: each CA key policy denies kms:Sign to every other principal', () => {
    const signers = [
      getAtt(plain.logicalId(plain.stack.functions.auth.role)),
      getAtt(plain.logicalId(plain.stack.functions.caBootstrap.role)),
    ];
    const caKeys = resourcesOfType(plain.resources, 'AWS::KMS::Key').filter(([, key]) => key.Properties?.KeyUsage === 'SIGN_VERIFY');
    expect(caKeys).toHaveLength(2);
    for (const [, key] of caKeys) {
      expect(key.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256' });
      // Labels in the description, no tags: no grant depends on a tag, and a rotation could not tag.
      expect(key.Properties!.Tags).toBeUndefined();
      expect(key.Properties!.Description).toMatch(/^Kubeport (user|host) CA key \(kubeport:ca=Kubeport kubeport:ca-type=(user|host)\)/);
      const denies = (key.Properties!.KeyPolicy as { Statement: Statement[] }).Statement.filter((s) => s.Effect === 'Deny');
      expect(denies).toEqual([
        {
          Sid: 'OnlyKubeportSignersMaySign',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'kms:Sign',
          Resource: '*',
          Condition: { ArnNotEquals: { 'aws:PrincipalArn': signers } },
        },
      ]);
    }
  });

  it('puts on each CA key the very policy a rotation puts on the keys it creates, naming the roles the auth function is told', () => {
    const roleArn = (role: { node: { defaultChild?: unknown } }) => concrete(getAtt(plain.logicalId(role))) as string;
    const { auth, admin, caBootstrap } = plain.stack.functions;
    const roles = { signers: [roleArn(auth.role), roleArn(caBootstrap.role)], readers: [roleArn(admin.role)] };
    for (const [, key] of resourcesOfType(plain.resources, 'AWS::KMS::Key').filter(([, k]) => k.Properties?.KeyUsage === 'SIGN_VERIFY'))
      expect(concrete(key.Properties!.KeyPolicy)).toEqual(caKeyPolicyDocument(`arn:aws:iam::${TEST_ACCOUNT}:root`, roles));
    // What KmsSigningKeys builds the rotated keys' policy from (lib/app/aws-services.ts).
    const variables = concrete(
      (plain.resources[plain.logicalId(auth.function)]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables,
    ) as Record<string, string>;
    const parsed = authEnvironmentSchema.parse(variables);
    expect({ signers: parsed.KUBEPORT_CA_SIGNER_ROLE_ARNS, readers: parsed.KUBEPORT_CA_READER_ROLE_ARNS }).toEqual(roles);
  });

  it('denies kms:Sign by key policy to the admin role, an account administrator and the account root, and to no signer', () => {
    const userCaKey = plain.resources[plain.logicalId(plain.stack.functions.certificateAuthorities.userCaKey)]!;
    const policy = JSON.stringify(concrete(userCaKey.Properties!.KeyPolicy));
    const roleArn = (role: { node: { defaultChild?: unknown } }) => concrete(getAtt(plain.logicalId(role))) as string;
    const { auth, admin, caBootstrap } = plain.stack.functions;
    expect(principalDenied(policy, 'kms:Sign', roleArn(auth.role))).toBe(false);
    expect(principalDenied(policy, 'kms:Sign', roleArn(caBootstrap.role))).toBe(false);
    for (const other of [
      roleArn(admin.role),
      `arn:aws:iam::${TEST_ACCOUNT}:role/Administrator`,
      `arn:aws:iam::${TEST_ACCOUNT}:root`,
      `arn:aws:iam::${TEST_ACCOUNT}:user/alice`,
    ])
      expect(principalDenied(policy, 'kms:Sign', other), other).toBe(true);
    // Only signing is guarded: the account still administers the key and reads its public key.
    expect(principalDenied(policy, 'kms:GetPublicKey', roleArn(admin.role))).toBe(false);
  });

  it('grants the functions by key policy what they do with a CA key: signers sign, read and retire; the admin role only reads', () => {
    const userCaKey = plain.resources[plain.logicalId(plain.stack.functions.certificateAuthorities.userCaKey)]!;
    const policy = JSON.stringify(concrete(userCaKey.Properties!.KeyPolicy));
    const roleArn = (role: { node: { defaultChild?: unknown } }) => concrete(getAtt(plain.logicalId(role))) as string;
    const { auth, admin, caBootstrap } = plain.stack.functions;
    // No IAM behind the key policy: every grant below is the key policy's own.
    const noIam = () => false;
    for (const signer of [auth.role, caBootstrap.role])
      for (const action of ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey', 'kms:ScheduleKeyDeletion'])
        expect(policyAllows(policy, action, roleArn(signer), noIam), action).toBe(true);
    for (const action of ['kms:GetPublicKey', 'kms:DescribeKey'])
      expect(policyAllows(policy, action, roleArn(admin.role), noIam)).toBe(true);
    for (const action of ['kms:Sign', 'kms:ScheduleKeyDeletion', 'kms:PutKeyPolicy', 'kms:TagResource'])
      expect(policyAllows(policy, action, roleArn(admin.role), noIam), action).toBe(false);
    // Nobody but the account root gets kms:PutKeyPolicy, not even the signers.
    expect(policyAllows(policy, 'kms:PutKeyPolicy', roleArn(auth.role), noIam)).toBe(false);
  });

  it('grants nothing on CA keys by IAM: no role may sign by IAM, and the admin role denies kms:Sign to itself', () => {
    const caKeyIds = plain.stack.functions.certificateAuthorities.keys.map((key) =>
      plain.stack.getLogicalId(key.node.defaultChild as CfnElement),
    );
    for (const name of ['auth', 'admin', 'caBootstrap'] as const) {
      const statements = policyStatements(plain.resources, plain.logicalId(plain.stack.functions[name].role));
      expect(statements.filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes('kms:Sign'))).toEqual([]);
      for (const statement of statements) for (const id of caKeyIds) expect(JSON.stringify(statement.Resource ?? '')).not.toContain(id);
    }
    const adminSigning = policyStatements(plain.resources, plain.logicalId(plain.stack.functions.admin.role)).filter((s) =>
      [s.Action].flat().includes('kms:Sign'),
    );
    expect(adminSigning).toEqual([{ Sid: 'AdminNeverSigns', Effect: 'Deny', Action: 'kms:Sign', Resource: '*' }]);
  });

  it('grants no action by wildcard: no *, no kms:*, except the key policies letting the account administer its keys', () => {
    for (const [, resource] of Object.entries(plain.resources)) {
      const documents =
        resource.Type === 'AWS::KMS::Key'
          ? [resource.Properties!.KeyPolicy]
          : resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy'
            ? [resource.Properties!.PolicyDocument]
            : resource.Type === 'AWS::IAM::Role'
              ? ((resource.Properties!.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map((p) => p.PolicyDocument)
              : [];
      for (const statement of documents.flatMap((document) => (document as { Statement: Statement[] }).Statement)) {
        const actions = [statement.Action].flat();
        const accountAdministersKey =
          resource.Type === 'AWS::KMS::Key' && actions.join() === 'kms:*' && JSON.stringify(statement.Principal).includes(':root');
        if (!accountAdministersKey)
          expect(
            actions.filter((action) => action.includes('*')),
            JSON.stringify(statement),
          ).toEqual([]);
      }
    }
  });

  it('lets the auth function create only P-256 signing keys made by KMS whose lockout check is bypassed, and nothing else on every key', () => {
    const statements = policyStatements(plain.resources, plain.logicalId(plain.stack.functions.auth.role));
    expect(statements.find((s) => s.Sid === 'CreateCaKeys')).toEqual({
      Sid: 'CreateCaKeys',
      Effect: 'Allow',
      Action: 'kms:CreateKey',
      Resource: '*',
      Condition: {
        StringEquals: { 'kms:KeySpec': 'ECC_NIST_P256', 'kms:KeyUsage': 'SIGN_VERIFY', 'kms:KeyOrigin': 'AWS_KMS' },
        Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' },
      },
    });
    // The suppression of the Resource::* finding says "kms:CreateKey only": so it is.
    const everywhere = statements.filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource).match(/"\*"|key\/\*/));
    expect(everywhere.map((s) => s.Action)).toEqual(['kms:CreateKey']);
  });

  it('lets no role tag, re-tag or change the policy of a key, and conditions no grant on a tag', () => {
    for (const [, resource] of Object.entries(plain.resources)) {
      if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
      for (const statement of (resource.Properties!.PolicyDocument as { Statement: Statement[] }).Statement) {
        if (statement.Effect !== 'Allow') continue;
        const actions = [statement.Action].flat();
        expect(
          actions.filter((a) => ['kms:TagResource', 'kms:UntagResource', 'kms:PutKeyPolicy', 'kms:CreateGrant'].includes(a)),
          JSON.stringify(statement),
        ).toEqual([]);
        expect(JSON.stringify(statement.Condition ?? {})).not.toMatch(/aws:ResourceTag|aws:RequestTag|aws:TagKeys/);
      }
    }
  });

  it('lets the admin role use the secrets key, and nothing creates or retires keys by IAM but auth', () => {
    const allowed = (name: 'admin' | 'caBootstrap') =>
      policyStatements(plain.resources, plain.logicalId(plain.stack.functions[name].role))
        .filter((s) => s.Effect === 'Allow')
        .flatMap((s) => [s.Action].flat());
    expect(allowed('admin')).toContain('kms:Decrypt');
    for (const name of ['admin', 'caBootstrap'] as const) {
      expect(allowed(name).filter((a) => ['kms:CreateKey', 'kms:ScheduleKeyDeletion', 'kms:TagResource'].includes(a))).toEqual([]);
    }
    const authActions = policyStatements(plain.resources, plain.logicalId(plain.stack.functions.auth.role)).flatMap((s) =>
      [s.Action].flat(),
    );
    expect(authActions).not.toContain('kms:ScheduleKeyDeletion');
  });

  it('says in each KMS suppression what the template does: CreateKey only, nothing by tag', () => {
    const reasons = Object.values(
      plain.template.toJSON().Resources as Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress: { reason: string }[] } } }>,
    )
      .flatMap((resource) => resource.Metadata?.cdk_nag?.rules_to_suppress ?? [])
      .map((suppression) => suppression.reason);
    const kmsReasons = [...new Set(reasons.filter((reason) => reason.includes('kms:')))];
    expect(kmsReasons).toHaveLength(1);
    expect(kmsReasons[0]).toMatch(/^kms:CreateKey only/);
    for (const reason of reasons) expect(reason).not.toMatch(/TagResource|tagged|ABAC|ResourceTag/);
  });

  it('gives the CA bootstrap, which seals nothing, neither the secrets key nor any encrypt or decrypt', () => {
    const actions = policyStatements(plain.resources, plain.logicalId(plain.stack.functions.caBootstrap.role))
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => ['kms:Encrypt', 'kms:Decrypt', 'kms:*'].includes(a))).toEqual([]);
    const variables = (
      plain.resources[plain.logicalId(plain.stack.functions.caBootstrap.function)]!.Properties!.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(variables).not.toHaveProperty('KUBEPORT_SECRETS_KEY_ID');
  });

  it('runs every function on ARM64 and Node 22 with its own log group, reserving no concurrency unless asked', () => {
    const functions = resourcesOfType(plain.resources, 'AWS::Lambda::Function');
    // The CA bootstrap is invoked by CloudFormation directly: no custom-resource framework function.
    expect(functions).toHaveLength(3);
    const logGroups = new Set(resourcesOfType(plain.resources, 'AWS::Logs::LogGroup').map(([id]) => id));
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({ Architectures: ['arm64'], Runtime: 'nodejs22.x', Handler: 'index.handler' });
      // Reserving would need an account concurrency limit of 116; new accounts often have 10.
      expect(fn.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
      expect(fn.Properties!.Timeout).toBeLessThanOrEqual(120);
      const logGroup = (fn.Properties!.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(logGroups.has(logGroup)).toBe(true);
    }
    plain.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
    // API functions answer before API Gateway's 30 s integration timeout.
    for (const fn of [plain.stack.functions.auth, plain.stack.functions.admin])
      expect(plain.resources[plain.logicalId(fn.function)]!.Properties!.Timeout).toBeLessThan(30);
  });

  it('gives each function the environment its schema requires (CloudFormation references read as ARNs)', () => {
    const environment = (fn: { function: { node: { defaultChild?: unknown } } }) => {
      const variables = (plain.resources[plain.logicalId(fn.function)]!.Properties!.Environment as { Variables: Record<string, unknown> })
        .Variables;
      return Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : 'arn:aws:resolved-at-deploy']),
      );
    };
    const { auth, admin, caBootstrap } = plain.stack.functions;
    expect(authEnvironmentSchema.safeParse(environment(auth)).error).toBeUndefined();
    expect(adminEnvironmentSchema.safeParse(environment(admin)).error).toBeUndefined();
    expect(caBootstrapEnvironmentSchema.safeParse(environment(caBootstrap)).error).toBeUndefined();
    expect(environment(auth)).toMatchObject({ KUBEPORT_CA_KEY_TAG: 'Kubeport', KUBEPORT_CLUSTER_NAME: 'Kubeport' });
    expect(environment(auth)).not.toHaveProperty('KUBEPORT_GITHUB_SECRET_NAME');
    expect(environment(caBootstrap)).toMatchObject({ KUBEPORT_STACK_ID: 'arn:aws:resolved-at-deploy' });
    expect(environment(caBootstrap)).not.toHaveProperty('KUBEPORT_GITHUB_CLIENT_ID');
  });

  it('routes the auth paths to the auth function, /webapi/admin to admin, and the break-glass route to admin behind AWS_IAM', () => {
    const routes = Object.fromEntries(
      resourcesOfType(plain.resources, 'AWS::ApiGatewayV2::Route').map(([, route]) => [
        route.Properties!.RouteKey as string,
        { authorization: route.Properties!.AuthorizationType, target: JSON.stringify(route.Properties!.Target) },
      ]),
    );
    const integrationOf = (fn: { function: { node: { defaultChild?: unknown } } }) => {
      const functionId = plain.logicalId(fn.function);
      const [id] = resourcesOfType(plain.resources, 'AWS::ApiGatewayV2::Integration').find(([, i]) =>
        JSON.stringify(i.Properties!.IntegrationUri).includes(functionId),
      )!;
      return id;
    };
    const auth = integrationOf(plain.stack.functions.auth);
    const admin = integrationOf(plain.stack.functions.admin);
    const expected = {
      ...Object.fromEntries(AUTH_ROUTES.map((r) => [`${r.method} ${r.path}`, { authorization: 'NONE', via: auth }])),
      'ANY /webapi/admin/{proxy+}': { authorization: 'NONE', via: admin },
      'ANY /webapi/iam/admin/{proxy+}': { authorization: 'AWS_IAM', via: admin },
    };
    expect(Object.keys(routes).sort()).toEqual(Object.keys(expected).sort());
    for (const [key, { authorization, via }] of Object.entries(expected)) {
      expect(routes[key]!.authorization, key).toBe(authorization);
      expect(routes[key]!.target, key).toContain(via);
    }
    for (const key of [
      'GET /webapi/ping',
      'POST /webapi/github/login/console',
      'GET /webapi/github/callback',
      'POST /webapi/ca/rotate',
      'GET /webapi/ca',
      'GET /webapi/kube/clusters',
    ])
      expect(routes).toHaveProperty([key]);
    // No catch-all: unknown paths are answered by API Gateway without invoking a function.
    expect(Object.keys(routes).filter((key) => key.includes('$default'))).toEqual([]);
  });

  it('throttles each route on its own (ping and logins higher, break-glass alone and small) and writes JSON access logs', () => {
    const throttle = ({ rateLimit, burstLimit }: { rateLimit: number; burstLimit: number }) => ({
      ThrottlingRateLimit: rateLimit,
      ThrottlingBurstLimit: burstLimit,
    });
    plain.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: throttle(DEFAULT_ROUTE_THROTTLE),
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
    });
    const stages = resourcesOfType(plain.resources, 'AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const [stageId, stage] = stages[0]! as unknown as [
      string,
      { Properties: { RouteSettings: Record<string, unknown> }; DependsOn?: string[] },
    ];
    const settings = stage.Properties.RouteSettings;
    const routes = resourcesOfType(plain.resources, 'AWS::ApiGatewayV2::Route');
    // Every route has its own setting, and each route exists before the stage names it.
    expect(Object.keys(settings).sort()).toEqual(routes.map(([, route]) => route.Properties!.RouteKey as string).sort());
    for (const [routeId] of routes) expect(stage.DependsOn, stageId).toContain(routeId);
    expect(settings['GET /webapi/ping']).toEqual(throttle(PING_THROTTLE));
    for (const key of ['POST /webapi/github/login/console', 'GET /webapi/github/callback', 'POST /webapi/local/{proxy+}'])
      expect(settings[key], key).toEqual(throttle(LOGIN_THROTTLE));
    expect(settings['ANY /webapi/iam/admin/{proxy+}']).toEqual(throttle(BREAK_GLASS_THROTTLE));
    expect(settings['ANY /webapi/admin/{proxy+}']).toEqual(throttle(DEFAULT_ROUTE_THROTTLE));
    // What the README's worst case under a sustained flood is computed from.
    const sum = Object.values(settings).reduce(
      (total: number, route) => total + (route as { ThrottlingRateLimit: number }).ThrottlingRateLimit,
      0,
    );
    expect(sum).toBe(floodRequestsPerSecond());
    expect(sum).toBe(49);
  });

  it('lets no function update, delete or batch-write audit events: the functions put them, and admin alone queries them', () => {
    const auditArn = getAtt(plain.logicalId(plain.stack.storage.audit));
    const onAudit = (name: 'auth' | 'admin' | 'caBootstrap') =>
      policyStatements(plain.resources, plain.logicalId(plain.stack.functions[name].role))
        .filter((statement) => statement.Effect === 'Allow' && JSON.stringify(statement.Resource ?? '').includes(JSON.stringify(auditArn)))
        .flatMap((statement) => [statement.Action].flat());
    for (const name of ['auth', 'admin', 'caBootstrap'] as const) {
      const actions = onAudit(name);
      expect(actions, name).toContain('dynamodb:PutItem');
      for (const forbidden of ['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem', 'dynamodb:*'])
        expect(actions, `${name} ${forbidden}`).not.toContain(forbidden);
    }
    expect(onAudit('auth').sort()).toEqual(['dynamodb:PutItem']);
    expect(onAudit('caBootstrap').sort()).toEqual(['dynamodb:PutItem']);
    expect(onAudit('admin').sort()).toEqual(['dynamodb:PutItem', 'dynamodb:Query']);
    // No other role of the stack holds any write on the audit table either.
    const everyStatement = resourcesOfType(plain.resources, 'AWS::IAM::Policy').flatMap(
      ([, policy]) => (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    const auditWrites = everyStatement
      .filter((statement) => JSON.stringify(statement.Resource ?? '').includes(JSON.stringify(auditArn)))
      .flatMap((statement) => [statement.Action].flat())
      .filter((action) => /^dynamodb:(DeleteItem|UpdateItem|BatchWriteItem|PartiQLDelete|PartiQLUpdate|\*)$/.test(action));
    expect(auditWrites).toEqual([]);
  });

  it('creates the CA bootstrap resource on the function itself, with the callback URL and a version that follows the bundle', () => {
    const bootstrap = resourcesOfType(plain.resources, CA_BOOTSTRAP_RESOURCE_TYPE);
    expect(bootstrap).toHaveLength(1);
    const resource = bootstrap[0]![1] as { Properties: Record<string, unknown> };
    expect(resource.Properties.ServiceToken).toEqual(getAtt(plain.logicalId(plain.stack.functions.caBootstrap.function)));
    expect(JSON.stringify(resource.Properties.CallbackUrl)).toContain('/webapi/github/callback');
    const code = plain.resources[plain.logicalId(plain.stack.functions.caBootstrap.function)]!.Properties!.Code as { S3Key: string };
    expect(`${String(resource.Properties.Version)}.zip`).toBe(code.S3Key);
    expect(resource.Properties).not.toHaveProperty('GitHubClientId');
  });

  it('protects the tables from deletion, with point-in-time recovery, TTL and on-demand billing', () => {
    plain.template.resourceCountIs('AWS::DynamoDB::Table', 3);
    plain.template.allResourcesProperties('AWS::DynamoDB::Table', {
      DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
    plain.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    const indexKey = (name: string, partition: string) =>
      Match.objectLike({
        IndexName: name,
        KeySchema: [
          { AttributeName: partition, KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      });
    plain.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        indexKey('by_user', 'user_pk'),
        indexKey('by_session', 'sid'),
        indexKey('by_type', 'type_pk'),
        indexKey('by_namespace', 'namespace_pk'),
      ],
    });
  });

  it('keeps buckets private, encrypted and TLS-only', () => {
    plain.template.allResourcesProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: Match.anyValue(),
    });
    plain.template.allResourcesProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('locks the audit archive (governance mode, versioned) and moves both data buckets to cheaper storage', () => {
    const bucket = (construct: { node: { defaultChild?: unknown } }) => plain.resources[plain.logicalId(construct)]!.Properties!;
    expect(bucket(plain.stack.storage.auditBucket)).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } } },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }] })] },
    });
    expect(bucket(plain.stack.storage.recordingsBucket)).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: [
          expect.objectContaining({
            Transitions: [{ StorageClass: 'INTELLIGENT_TIERING', TransitionInDays: 30 }],
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
          }),
        ],
      },
    });
    expect(bucket(plain.stack.storage.recordingsBucket)).not.toHaveProperty('ObjectLockEnabled');
  });

  it('lets the admin function read recordings under sessions/ only', () => {
    const s3 = policyStatements(plain.resources, plain.logicalId(plain.stack.functions.admin.role)).filter((s) =>
      [s.Action].flat().some((a) => a.startsWith('s3:')),
    );
    expect(s3).toEqual([
      expect.objectContaining({ Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [expect.anything(), '/sessions/*']] } }),
      expect.objectContaining({ Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': ['sessions/*'] } } }),
    ]);
    for (const name of ['auth', 'caBootstrap'] as const)
      expect(JSON.stringify(policyStatements(plain.resources, plain.logicalId(plain.stack.functions[name].role)))).not.toContain('"s3:');
  });

  it('defines the Glue table over the audit archive: the JSON SerDe, the columns, dt projected by day', () => {
    plain.template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: {
        Name: 'audit_events',
        TableType: 'EXTERNAL_TABLE',
        PartitionKeys: [{ Name: 'dt', Type: 'string' }],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'storage.location.template': {
            'Fn::Join': ['', ['s3://', { Ref: plain.logicalId(plain.stack.storage.auditBucket) }, '/events/dt=${dt}/']],
          },
        }),
        StorageDescriptor: {
          Location: { 'Fn::Join': ['', ['s3://', { Ref: plain.logicalId(plain.stack.storage.auditBucket) }, '/events/']] },
          Columns: AUDIT_COLUMNS.map((c) => ({ Name: c.name, Type: c.type })),
          SerdeInfo: {
            SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            Parameters: Match.objectLike({ 'mapping.addr_remote': 'addr.remote' }),
          },
        },
      },
    });
    const columns = AUDIT_COLUMNS.map((c) => `${c.name} ${c.type}`);
    for (const column of [
      'event string',
      'time string',
      'success boolean',
      'response_code int',
      'command array<string>',
      'kubernetes_groups array<string>',
      'truncated boolean',
    ])
      expect(columns).toContain(column);
    plain.template.resourceCountIs('AWS::Glue::Crawler', 0);
  });

  it('raises a few alarms (API 5xx, each API function failing or throttled) and has no topic without an email', () => {
    plain.template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    plain.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: '5xx',
      Namespace: 'AWS/ApiGateway',
      TreatMissingData: 'notBreaching',
    });
    plain.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttles', Namespace: 'AWS/Lambda' });
    plain.template.resourceCountIs('AWS::SNS::Topic', 0);
  });

  it('offers a break-glass policy that may invoke the IAM-authorized admin route and nothing else, and outputs what a deployer needs', () => {
    plain.template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'KubeportBreakGlass',
      PolicyDocument: {
        Statement: [
          {
            Sid: 'InvokeBreakGlassAdminRoute',
            Effect: 'Allow',
            Action: 'execute-api:Invoke',
            Resource: { 'Fn::Join': ['', Match.arrayWith([{ Ref: plain.logicalId(plain.stack.api.api) }, '/*/*/webapi/iam/admin/*'])] },
          },
        ],
      },
    });
    const outputs = plain.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(['ApiUrl', 'BreakGlassPolicyArn', 'GitHubCallbackUrl', 'TshLogin']);
    expect(JSON.stringify(outputs.GitHubCallbackUrl!.Value)).toContain('/webapi/github/callback');
    expect(JSON.stringify(outputs.TshLogin!.Value)).toContain('tsh login --proxy=');
  });
});

describe('the stack with the GitHub context and an alarm email', () => {
  it('passes cdk-nag AwsSolutions', () => {
    expectNagClean(withGitHub.stack);
  });

  it("hands the GitHub settings to the CA bootstrap in its environment, with the stack's id, and to the resource only a digest to trigger on", () => {
    const variables = (name: 'auth' | 'admin' | 'caBootstrap') =>
      (
        withGitHub.resources[withGitHub.logicalId(withGitHub.stack.functions[name].function)]!.Properties!.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
    expect(variables('caBootstrap')).toMatchObject({
      KUBEPORT_STACK_ID: { Ref: 'AWS::StackId' },
      KUBEPORT_GITHUB_CLIENT_ID: GITHUB.clientId,
      KUBEPORT_GITHUB_ADMIN_TEAMS: GITHUB.adminTeams.join(','),
      KUBEPORT_GITHUB_CALLBACK_URL: {
        'Fn::Join': ['', [{ 'Fn::GetAtt': [withGitHub.logicalId(withGitHub.stack.api.api), 'ApiEndpoint'] }, '/webapi/github/callback']],
      },
    });
    // Both API functions know the deployment's OAuth app: admin refuses other client IDs when a connector is stored, auth when it is used.
    expect(variables('auth')).toMatchObject({ KUBEPORT_GITHUB_CLIENT_ID: GITHUB.clientId });
    expect(variables('admin')).toMatchObject({ KUBEPORT_GITHUB_CLIENT_ID: GITHUB.clientId });
    const resource = resourcesOfType(withGitHub.resources, CA_BOOTSTRAP_RESOURCE_TYPE)[0]![1] as { Properties: Record<string, unknown> };
    expect(resource.Properties.GitHubSettings).toMatch(/^[0-9a-f]{16}$/);
    for (const name of ['GitHubClientId', 'GitHubAdminTeams', 'GitHubEndpointUrl', 'GitHubApiEndpointUrl'])
      expect(resource.Properties).not.toHaveProperty(name);
  });

  it('lets the auth function alone read the named secret, whatever its random ARN suffix, and never puts the value in the template', () => {
    const secretReads = (name: 'auth' | 'admin' | 'caBootstrap') =>
      policyStatements(withGitHub.resources, withGitHub.logicalId(withGitHub.stack.functions[name].role)).filter((s) =>
        [s.Action].flat().some((a) => a.startsWith('secretsmanager:')),
      );
    expect(secretReads('auth')).toEqual([
      expect.objectContaining({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: { 'Fn::Join': ['', expect.arrayContaining([':secret:kubeport/github-client-secret-??????'])] },
      }),
    ]);
    expect(secretReads('admin')).toEqual([]);
    expect(secretReads('caBootstrap')).toEqual([]);
    withGitHub.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(JSON.stringify(withGitHub.template.toJSON())).not.toContain('resolve:secretsmanager');
  });

  it('sets no environment variable whose value looks like a secret; the GitHub secret travels by name', () => {
    const functions = resourcesOfType(withGitHub.resources, 'AWS::Lambda::Function');
    const values = functions.flatMap(([, fn]) =>
      Object.entries((fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables),
    );
    expect(values).toContainEqual(['KUBEPORT_GITHUB_SECRET_NAME', GITHUB.clientSecretName]);
    for (const [name, value] of values) expect(looksLikeSecret(value), `${name}=${JSON.stringify(value)}`).toBe(false);
  });

  it('notices a secret-looking value, so the check above can fail', () => {
    for (const secret of [
      '0123456789abcdef0123456789abcdef01234567',
      'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      '-----BEGIN PRIVATE KEY-----',
      'kZ8v1Qw3Jx9LmN2pR5tY7uI0oA4sD6fG8hJ1kL3z',
    ])
      expect(looksLikeSecret(secret), secret).toBe(true);
    for (const plainValue of ['kubeport/github-client-secret', 'Kubeport', '0.1.0', '', { Ref: 'StorageResourcesC66C3298' }])
      expect(looksLikeSecret(plainValue)).toBe(false);
  });

  it('reserves concurrency when asked: auth 10, admin 5, the CA bootstrap 1', () => {
    const reserved = (name: 'auth' | 'admin' | 'caBootstrap') =>
      withGitHub.resources[withGitHub.logicalId(withGitHub.stack.functions[name].function)]!.Properties!.ReservedConcurrentExecutions;
    expect([reserved('auth'), reserved('admin'), reserved('caBootstrap')]).toEqual([10, 5, 1]);
  });

  it('emails alarms through an SNS topic that requires TLS', () => {
    withGitHub.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    withGitHub.template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: Match.anyValue() }] });
    withGitHub.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });
});

describe('storage without retainData', () => {
  it('lets the tables and buckets go with the stack', () => {
    const stack = new Stack(new App(), 'Disposable');
    new Storage(stack, 'Storage', { retain: false });
    const template = Template.fromStack(stack);
    template.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    template.allResources('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    template.allResources('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
  });
});

describe('storage with the compliance lock', () => {
  it('locks the audit archive in compliance mode and keeps that bucket even without retainData', () => {
    const stack = new Stack(new App(), 'Compliant');
    const storage = new Storage(stack, 'Storage', { retain: false, auditLockMode: 'compliance' });
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { DeletionPolicy?: string; Properties: unknown }>;
    const audit = resources[stack.getLogicalId(storage.auditBucket.node.defaultChild as CfnElement)]!;
    expect(audit.Properties).toMatchObject({
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } } },
    });
    expect(audit.DeletionPolicy).toBe('Retain');
    expect(resources[stack.getLogicalId(storage.recordingsBucket.node.defaultChild as CfnElement)]!.DeletionPolicy).toBe('Delete');
  });
});

/** A literal that could be a credential: a GitHub token or client secret, a PEM block, or a long random-looking string. */
function looksLikeSecret(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  return (
    /^[0-9a-f]{40}$/i.test(value) ||
    /^(gh[pousr]_|github_pat_)/.test(value) ||
    value.includes('-----BEGIN') ||
    (/^[A-Za-z0-9+/=_-]{32,}$/.test(value) && /[a-z]/.test(value) && /[A-Z]/.test(value) && /[0-9]/.test(value))
  );
}
