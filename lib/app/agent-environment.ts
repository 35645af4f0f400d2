// The agent's one configuration schema (`npm run agent`, the Fargate container): environment
// variables set by the stack (lib/infra) or by hand, parsed once at start-up; a bad or missing
// one stops the agent with a line naming it. The README's agent table documents each variable.
// AWS endpoints come from the SDK's own variables (AWS_REGION, AWS_ENDPOINT_URL_EKS, _STS,
// _DYNAMODB, _S3, _ROUTE_53, …), so tests point the unchanged clients at loopback stand-ins.
import * as z from 'zod';
import { parseDiscoveryTag } from '../adapters/aws/tagged-eks-clusters.js';

const name = (what: string) => z.string().min(1, `${what} is empty; the stack sets it`);
const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);
const seconds = (what: string, fallback: number) =>
  z.coerce.number().int(`${what} is a whole number of seconds`).positive(`${what} must be above 0`).default(fallback);

export const agentEnvironmentSchema = z.object({
  AWS_REGION: name('AWS_REGION'),
  /** Kubeport's cluster name, as the control plane's ping reports it. */
  KUBEPORT_CLUSTER_NAME: name('KUBEPORT_CLUSTER_NAME'),
  /** The control plane's API URL (https://…execute-api…amazonaws.com): the agent's certificate comes from its host-cert route. */
  KUBEPORT_API_URL: z.url('KUBEPORT_API_URL must be the API URL the stack outputs as ApiUrl'),
  KUBEPORT_RESOURCES_TABLE: name('KUBEPORT_RESOURCES_TABLE'),
  KUBEPORT_AUDIT_TABLE: name('KUBEPORT_AUDIT_TABLE'),
  /** The audit archive (Object Lock) bucket the agent's events are copied to. */
  KUBEPORT_AUDIT_BUCKET: name('KUBEPORT_AUDIT_BUCKET'),
  KUBEPORT_RECORDINGS_BUCKET: name('KUBEPORT_RECORDINGS_BUCKET'),
  /** Where kubectl connects: 443 in the container (the task definition lets a non-root process bind it). */
  KUBEPORT_AGENT_PORT: z.coerce.number().int().min(1).max(65_535).default(443),
  KUBEPORT_AGENT_HOST: z.string().default('0.0.0.0'),
  /** EKS clusters in AWS_REGION to register at start (kube_cluster with an eks source), comma-separated; admins' resources are never overwritten. */
  KUBEPORT_EKS_CLUSTERS: list.default([]),
  /** Discovery: EKS clusters carrying this tag (`key` or `key=value`) are registered with their tags as labels; empty: no discovery. */
  KUBEPORT_DISCOVERY_TAG: z.string().default(''),
  /** Regions discovery lists, comma-separated; default AWS_REGION. */
  KUBEPORT_DISCOVERY_REGIONS: list.default([]),
  KUBEPORT_DISCOVERY_INTERVAL_SECONDS: seconds('KUBEPORT_DISCOVERY_INTERVAL_SECONDS', 60),
  KUBEPORT_HEALTH_INTERVAL_SECONDS: seconds('KUBEPORT_HEALTH_INTERVAL_SECONDS', 30),
  /** How long a signed EKS token is used before a new one is signed (EKS accepts one for 15 minutes). */
  KUBEPORT_EKS_TOKEN_RENEW_SECONDS: seconds('KUBEPORT_EKS_TOKEN_RENEW_SECONDS', 600),
  /** agentTopology=economy: the Route 53 zone and name under which the task publishes its public IPv4 at start. */
  KUBEPORT_HOSTED_ZONE_ID: z.string().optional(),
  KUBEPORT_AGENT_DOMAIN_NAME: z.string().optional(),
  /** Where the task learns its public IPv4 (economy); answers the caller's address as text. */
  KUBEPORT_PUBLIC_IP_URL: z.url().default('https://checkip.amazonaws.com'),
  /** Where interrupted audit writes wait (the container's own disk). */
  KUBEPORT_SPOOL_DIR: z.string().default('/tmp/kubeport-spool'),
  /** SIGTERM: how long open streams may run on before they are ended (under ECS's stopTimeout of 120 s). */
  KUBEPORT_DRAIN_SECONDS: seconds('KUBEPORT_DRAIN_SECONDS', 100),
});
export type AgentEnvironment = z.infer<typeof agentEnvironmentSchema>;

/** A bad agent configuration: one line per bad variable, each naming it. */
export class AgentEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'AgentEnvironmentError';
  }
}

/**
 * Parses the agent's environment once, at start. Every bad or missing variable is named on a line
 * of its own, so the first failed start says all that is wrong; unknown variables are ignored (the
 * container's environment holds many).
 */
export function parseAgentEnvironment(env: Record<string, string | undefined>): AgentEnvironment {
  // An empty variable means unset: a stack or shell that writes NAME= wants the default.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = agentEnvironmentSchema.safeParse(given);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? '(environment)');
        return `${variable}: ${issue.code === 'invalid_type' && given[variable] === undefined ? 'is not set; the stack sets it' : issue.message}`;
      });
  // The economy topology's address record needs both; one alone is a mistake, not a choice.
  const zone = given.KUBEPORT_HOSTED_ZONE_ID;
  const domain = given.KUBEPORT_AGENT_DOMAIN_NAME;
  if ((zone === undefined) !== (domain === undefined)) {
    const [missing, set] =
      zone === undefined
        ? ['KUBEPORT_HOSTED_ZONE_ID', 'KUBEPORT_AGENT_DOMAIN_NAME']
        : ['KUBEPORT_AGENT_DOMAIN_NAME', 'KUBEPORT_HOSTED_ZONE_ID'];
    problems.push(`${missing}: is not set but ${set} is; set both (economy topology) or neither`);
  }
  if (given.KUBEPORT_DISCOVERY_TAG !== undefined) {
    try {
      parseDiscoveryTag(given.KUBEPORT_DISCOVERY_TAG);
    } catch (error) {
      problems.push(`KUBEPORT_DISCOVERY_TAG: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (!result.success || problems.length > 0) throw new AgentEnvironmentError(problems);
  return result.data;
}
