// What one health check of a cluster found, as the ClusterHealth that tctl, tsh and the agent's
// fail-fast answers show: the first step that failed, a one-line reason, and a one-line fix that
// names the command to run. Pure: the probe (agent/cluster-health-probe.ts) does the I/O.
import { IMPERSONATOR_GROUP } from './eks-access.js';
import type { EksSource } from './kube-cluster-source.js';
import type { ClusterHealth } from './kube-cluster-health.js';

/** The three impersonation rights the agent needs (Impersonate-User, -Group, and service accounts). */
export const IMPERSONATED_RESOURCES = ['users', 'groups', 'serviceaccounts'] as const;
export type ImpersonatedResource = (typeof IMPERSONATED_RESOURCES)[number];

/** What the probe saw, step by step; the first failing step ends it. */
export type ProbeOutcome =
  /** The cluster's endpoint could not be learnt (DescribeCluster failed, or the cluster is not ACTIVE). */
  | { step: 'describe'; message: string; awsError?: string }
  /** The agent could not make its own credential for the cluster (signing the EKS token failed). */
  | { step: 'credentials'; message: string }
  /** No answer: TCP, TLS or a timeout. `code` is the socket or TLS error code when there is one. */
  | { step: 'connect'; message: string; code?: string }
  /** The API server answered a SelfSubjectAccessReview with something other than 201. */
  | { step: 'review'; status: number; message: string }
  /** The answer to a SelfSubjectAccessReview could not be read. */
  | { step: 'malformed'; message: string }
  /** Every review was answered: whether each impersonation is allowed, with the server's reason when denied. */
  | { step: 'reviewed'; allowed: Record<ImpersonatedResource, boolean>; reason?: string };

export interface VerdictContext {
  cluster: string;
  /** The agent that checked (host name or task id). */
  agent: string;
  /** `eks` clusters: the EKS source; absent for kubeconfig clusters. */
  eks?: EksSource;
  /** The IAM role the agent runs as (its task role); an eks source's role_arn replaces it toward that cluster. */
  agentRoleArn?: string;
  checkedAt: Date;
}

const MAX_LINE = 300;

/** One line, whatever the server or the SDK put in a message. */
export function oneLine(text: string, max = MAX_LINE): string {
  const flat = text
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

// TLS verification failures: the connection was made, the certificate did not verify.
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The principal EKS sees: the role the source names for another account, else the agent's own role. */
function principalArn(context: VerdictContext): string {
  return context.eks?.role_arn ?? context.agentRoleArn ?? "<the agent's task role ARN>";
}

function describeFix(context: VerdictContext, eks: EksSource, awsError: string | undefined): string {
  const at = `--name ${eks.name} --region ${eks.region}`;
  switch (awsError) {
    case 'ResourceNotFoundException':
      return `check the eks name and region of kube_cluster ${context.cluster} (aws eks list-clusters --region ${eks.region})`;
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
      return `allow ${principalArn(context)} eks:DescribeCluster on arn:aws:eks:${eks.region}:<account>:cluster/${eks.name}`;
    case 'ClusterNotActive':
      return `wait until the cluster is ACTIVE again (aws eks describe-cluster ${at} --query cluster.status)`;
    default:
      return `retry; if it persists, check the agent's path to the EKS API in ${eks.region} (aws eks describe-cluster ${at})`;
  }
}

function unreachableFix(context: VerdictContext, code: string | undefined): string {
  if (code !== undefined && TLS_CODES.has(code)) {
    return context.eks
      ? `the API server's certificate does not match the CA EKS described; retry, and check for a TLS-intercepting proxy between the agent and ${context.eks.name}`
      : `the API server's certificate does not verify against the kubeconfig's certificate-authority-data; update the kubeconfig for ${context.cluster}`;
  }
  if (context.eks) {
    return (
      `allow TCP 443 from the agent's security group to the cluster security group ` +
      `(aws eks describe-cluster --name ${context.eks.name} --region ${context.eks.region} --query cluster.resourcesVpcConfig), ` +
      `and run the agent in the cluster's VPC or enable its public endpoint`
    );
  }
  return `check that the API server in the kubeconfig for ${context.cluster} is running and reachable from the agent (kubectl --context ${context.cluster} get --raw /readyz)`;
}

function tokenRefusedFix(context: VerdictContext): string {
  if (!context.eks) return `the credentials of the kubeconfig's user for ${context.cluster} are refused; renew them and restart`;
  return (
    `create the access entry: aws eks create-access-entry --cluster-name ${context.eks.name} --region ${context.eks.region} ` +
    `--principal-arn ${principalArn(context)} --kubernetes-groups ${IMPERSONATOR_GROUP} --type STANDARD ` +
    `(or list the cluster in the stack's context clusters and deploy again)`
  );
}

function cannotImpersonateFix(context: VerdictContext): string {
  const apply = `tctl kube bootstrap ${context.cluster} | kubectl apply -f -`;
  if (context.eks) return `as a cluster admin: ${apply}`;
  return `as a cluster admin: ${apply}, with the kubeconfig's user added to the binding's subjects`;
}

function problem(context: VerdictContext, kind: NonNullable<ClusterHealth['problem']>, reason: string, fix: string): ClusterHealth {
  return {
    cluster: context.cluster,
    status: 'unhealthy',
    problem: kind,
    reason: oneLine(reason),
    fix: oneLine(fix, 2 * MAX_LINE),
    checked_at: context.checkedAt.toISOString(),
    agent: context.agent,
  };
}

/** The cluster's health as one probe found it. */
export function clusterHealthVerdict(outcome: ProbeOutcome, context: VerdictContext): ClusterHealth {
  switch (outcome.step) {
    case 'describe':
      return problem(
        context,
        'describe_failed',
        // EKS's own error name says it shortest; the adapter's message repeats the fix.
        context.eks && outcome.awsError && outcome.awsError !== 'ClusterNotActive'
          ? `DescribeCluster of ${context.eks.name} in ${context.eks.region} failed: ${outcome.awsError}`
          : `the agent could not describe the cluster: ${outcome.message}`,
        context.eks ? describeFix(context, context.eks, outcome.awsError) : `check kube_cluster ${context.cluster}'s source`,
      );
    case 'credentials':
      return problem(
        context,
        'check_failed',
        `the agent could not make its credential for the cluster: ${outcome.message}`,
        context.eks
          ? `check that the agent's role can sign requests (its task role, or sts:AssumeRole on ${principalArn(context)})`
          : `check the kubeconfig's user for ${context.cluster}`,
      );
    case 'connect':
      return problem(
        context,
        'unreachable',
        `no connection to the API server: ${outcome.message}${outcome.code ? ` (${outcome.code})` : ''}`,
        unreachableFix(context, outcome.code),
      );
    case 'review':
      if (outcome.status === 401) {
        return problem(
          context,
          'token_refused',
          context.eks
            ? `the API server refused the agent's token (401): no access entry maps ${principalArn(context)}`
            : `the API server refused the agent's credentials (401)`,
          tokenRefusedFix(context),
        );
      }
      return problem(
        context,
        'check_failed',
        `the API server answered a SelfSubjectAccessReview with HTTP ${outcome.status}${outcome.message ? `: ${outcome.message}` : ''}`,
        outcome.status === 403
          ? `let the agent's identity create selfsubjectaccessreviews (the default system:basic-user binding does), then ${cannotImpersonateFix(context)}`
          : `check the API server's health (kubectl get --raw /readyz); the agent checks again shortly`,
      );
    case 'malformed':
      return problem(
        context,
        'check_failed',
        `the API server's answer to a SelfSubjectAccessReview could not be read: ${outcome.message}`,
        `check what answers at the cluster's address (kubectl get --raw /version); the agent checks again shortly`,
      );
    case 'reviewed': {
      const denied = IMPERSONATED_RESOURCES.filter((resource) => !outcome.allowed[resource]);
      if (denied.length === 0) {
        return { cluster: context.cluster, status: 'healthy', checked_at: context.checkedAt.toISOString(), agent: context.agent };
      }
      const who = context.eks ? `the agent (group ${IMPERSONATOR_GROUP})` : 'the agent';
      return problem(
        context,
        'cannot_impersonate',
        `${who} may not impersonate ${denied.join(', ')}${outcome.reason ? ` (${outcome.reason})` : ''}`,
        cannotImpersonateFix(context),
      );
    }
  }
}

/** Whether two checks found the same state (status and problem): a change is logged once, not every round. */
export function sameHealth(a: ClusterHealth | undefined, b: ClusterHealth): boolean {
  return a !== undefined && a.status === b.status && a.problem === b.problem;
}
