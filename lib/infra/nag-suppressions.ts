// cdk-nag AwsSolutions findings that are deliberate, each on the one resource it concerns, as
// narrow as `appliesTo` allows, with the reason. Anything else cdk-nag finds fails synth.
import type { CfnElement } from 'aws-cdk-lib';
import { NagSuppressions } from 'cdk-nag';
import type { KubeportAgent } from './kubeport-agent.js';
import type { KubeportStack } from './kubeport-stack.js';
import { AUDIT_ARCHIVE_PREFIX, RECORDINGS_PREFIX } from './agent-task-role.js';

export function suppressJustifiedFindings(stack: KubeportStack): void {
  const { functions, api, storage } = stack;

  for (const fn of [functions.auth, functions.admin, functions.caBootstrap]) {
    NagSuppressions.addResourceSuppressions(fn.function, [
      {
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22 on purpose: the bundles are built and tested for node22 (lib/infra/lambda-bundles.ts); moving to a newer runtime is a tested change, not a default',
      },
    ]);
  }

  for (const [key, route] of api.routes) {
    if (route === api.breakGlassRoute) continue;
    NagSuppressions.addResourceSuppressions(route, [
      {
        id: 'AwsSolutions-APIG4',
        reason: key.includes('/webapi/admin/')
          ? `${key}: every tctl call carries a JWS signed with the user's certificate key (x-kubeport-signature), checked by the admin function against the user CA, with a one-time id; API Gateway has no authorizer for that`
          : `${key}: a login route or a route the auth function authenticates itself: ping and the login starts are public by design (and limited per source address), the rest verify a JWS signed with the user's certificate key against the user CA`,
      },
    ]);
  }

  const auditIndexes = `Resource::<${stack.getLogicalId(storage.audit.node.defaultChild as CfnElement)}.Arn>/index/*`;
  const tableIndexesReason =
    "dynamodb:Query alone on the audit table's indexes (by user, session, event type, namespace), for audit search; only that table's";
  NagSuppressions.addResourceSuppressions(
    functions.auth.role,
    [
      {
        id: 'AwsSolutions-IAM5',
        appliesTo: ['Resource::*'],
        reason:
          "kms:CreateKey only (for CA rotation): it names no key, as the key does not exist yet, so it is conditioned instead on key spec ECC_NIST_P256, usage SIGN_VERIFY, origin AWS_KMS and the bypassed lockout check. It grants nothing on any existing key; what the role may do with a CA key is granted by that key's own policy",
      },
    ],
    true,
  );
  NagSuppressions.addResourceSuppressions(
    functions.admin.role,
    [
      { id: 'AwsSolutions-IAM5', appliesTo: [auditIndexes], reason: tableIndexesReason },
      {
        id: 'AwsSolutions-IAM5',
        appliesTo: [`Resource::<${stack.getLogicalId(storage.recordingsBucket.node.defaultChild as CfnElement)}.Arn>/sessions/*`],
        reason:
          'Session recordings are one object per part under sessions/<sid>/; the admin function reads any session an auditor asks for, and nothing else in the bucket',
      },
    ],
    true,
  );
  NagSuppressions.addResourceSuppressions(stack.breakGlass.policy, [
    {
      id: 'AwsSolutions-IAM5',
      appliesTo: [
        {
          regex:
            '/^Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<Api[A-Z0-9]+>\\/\\*\\/\\*\\/webapi\\/iam\\/admin\\/\\*$/',
        },
      ],
      reason:
        'Any method on any path under the break-glass route /webapi/iam/admin/{proxy+} (its only stage): what tctl needs, and nothing else of the API (not the agent host-cert route)',
    },
  ]);
  if (stack.agentDeployment) suppressAgentFindings(stack, stack.agentDeployment);

  if (stack.alarms.topic) {
    NagSuppressions.addResourceSuppressions(stack.alarms.topic, [
      {
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry no secret (alarm name and state); CloudWatch cannot publish to a topic encrypted with the aws/sns key, and a customer key for it would cost more than the alarms',
      },
    ]);
  }
}

function suppressAgentFindings(stack: KubeportStack, agent: KubeportAgent): void {
  const { storage } = stack;
  const { network, service, taskRole } = agent;
  const openIngress = {
    id: 'AwsSolutions-EC23',
    reason:
      'kubectl reaches the agent from wherever its users are (agentIngressCidrs narrows it, default 0.0.0.0/0 on 443 only): every request needs a client certificate of the user CA, checked by the agent',
  };
  NagSuppressions.addResourceSuppressions(network.securityGroup, [openIngress]);
  if (service.loadBalancer) {
    for (const group of service.loadBalancer.connections.securityGroups) NagSuppressions.addResourceSuppressions(group, [openIngress]);
    NagSuppressions.addResourceSuppressions(service.loadBalancer, [
      {
        id: 'AwsSolutions-ELB2',
        reason:
          "An NLB logs only TLS listeners; this one passes TCP through so the agent sees the client certificate. The agent's audit log records every request with the user's identity",
      },
    ]);
  }
  if (network.createdVpc) {
    NagSuppressions.addResourceSuppressions(network.vpc, [
      {
        id: 'AwsSolutions-VPC7',
        reason:
          "Flow logs cost per GB ingested, more than the agent itself at idle; the VPC holds only the agent, whose audit log records every request with the user's identity",
      },
    ]);
  }
  NagSuppressions.addResourceSuppressions(service.cluster, [
    {
      id: 'AwsSolutions-ECS4',
      reason: "Container Insights is billed per metric every month; the service's CPU and memory metrics and the agent's logs are free",
    },
  ]);
  NagSuppressions.addResourceSuppressions(service.taskDefinition, [
    {
      id: 'AwsSolutions-ECS2',
      reason:
        "The variables are names (tables, buckets, the API URL, clusters, the Route 53 record), no secret: the agent's credentials come from its task role",
    },
  ]);
  NagSuppressions.addResourceSuppressions(
    service.taskDefinition,
    [
      {
        id: 'AwsSolutions-IAM5',
        appliesTo: ['Resource::*'],
        reason:
          "The execution role's ecr:GetAuthorizationToken, which IAM allows only on *, to pull the agent's image (its other permissions name the image repository and the log group)",
      },
    ],
    true,
  );
  const bucketObjects = (bucket: CfnElement, prefix: string) => `Resource::<${stack.getLogicalId(bucket)}.Arn>/${prefix}*`;
  NagSuppressions.addResourceSuppressions(
    taskRole.role,
    [
      {
        id: 'AwsSolutions-IAM5',
        appliesTo: [bucketObjects(storage.recordingsBucket.node.defaultChild as CfnElement, RECORDINGS_PREFIX)],
        reason: 's3:PutObject only, under sessions/: one object per part of each recorded session (sessions/<sid>/<part>.cast)',
      },
      {
        id: 'AwsSolutions-IAM5',
        appliesTo: [bucketObjects(storage.auditBucket.node.defaultChild as CfnElement, AUDIT_ARCHIVE_PREFIX)],
        reason: 's3:PutObject only, under events/: one object per batch of audit events (events/dt=<day>/…); Object Lock keeps them',
      },
      {
        id: 'AwsSolutions-IAM5',
        appliesTo: ['Resource::*', 'Resource::arn:<AWS::Partition>:eks:<AWS::Region>:<AWS::AccountId>:cluster/*'],
        reason:
          'Only with agentDiscoveryTag: eks:ListClusters, which IAM allows only on * (held to the stack region by aws:RequestedRegion), and eks:DescribeCluster on the clusters it lists, to read their tags',
      },
    ],
    true,
  );
}
