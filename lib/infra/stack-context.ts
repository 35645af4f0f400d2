// The CDK context the stack is built from, validated in one place. Values come as strings from
// `cdk synth -c key=value` or as JSON from cdk.json's "context"; both are accepted. Every problem
// is collected, each naming its key and the fix, so one synth says everything that is wrong.
import * as z from 'zod';

const GITHUB_KEYS = ['githubClientId', 'githubClientSecretName', 'githubAdminTeams'] as const;
/** The agent's keys that mean nothing without `clusters` (agentTopology has a default and stands alone). */
const AGENT_KEYS = [
  'vpcId',
  'publicSubnetIds',
  'clusterSecurityGroupIds',
  'hostedZoneId',
  'agentDomainName',
  'agentIngressCidrs',
  'agentCapacity',
  'agentDiscoveryTag',
  'agentAssumeRoleArns',
] as const;

/** Every context key Kubeport reads; any other key is CDK's own (feature flags) or a typo. */
export const CONTEXT_KEYS = [
  'stackName',
  'retainData',
  ...GITHUB_KEYS,
  'alarmEmail',
  'reservedConcurrency',
  'auditLockMode',
  'clusters',
  'agentTopology',
  ...AGENT_KEYS,
] as const;

export type ContextKey = (typeof CONTEXT_KEYS)[number];

export interface GitHubContext {
  readonly clientId: string;
  /** The Secrets Manager secret's name (not its ARN) holding the OAuth app's client secret. */
  readonly clientSecretName: string;
  /** `org/team` slugs mapped to the editor and access roles by the connector created at deploy. */
  readonly adminTeams: string[];
}

export type AgentTopology = 'economy' | 'ha';

/** Fargate on demand (ARM64) or Fargate Spot (X86_64 only: Spot has no ARM64 capacity). */
export type AgentCapacity = 'on-demand' | 'spot';

/** An existing VPC the agent joins (the clusters'), given by id, never looked up. */
export interface AgentVpcContext {
  readonly vpcId: string;
  readonly publicSubnetIds: string[];
}

/** S3 Object Lock's two modes for the audit archive. */
export type AuditLockMode = 'governance' | 'compliance';

/** What the agent (issue 10) needs; present only when `clusters` is set. */
export interface AgentContext {
  readonly clusters: string[];
  /** The clusters' VPC and its public subnets; absent: the stack creates a VPC with public subnets only. */
  readonly vpc?: AgentVpcContext;
  readonly clusterSecurityGroupIds: string[];
  readonly topology: AgentTopology;
  readonly hostedZoneId?: string;
  readonly domainName?: string;
  /** Who may connect to the agent on 443 (kubectl through tsh); default everyone (0.0.0.0/0): the agent checks client certificates. */
  readonly ingressCidrs: string[];
  readonly capacity: AgentCapacity;
  /** Discovery: EKS clusters carrying this tag (`key` or `key=value`) are registered too. */
  readonly discoveryTag?: string;
  /** Roles in other accounts that kube_cluster eks sources name (`role_arn`): the task role may assume them. */
  readonly assumeRoleArns: string[];
}

export interface StackContext {
  readonly stackName: string;
  readonly retainData: boolean;
  readonly github?: GitHubContext;
  readonly alarmEmail?: string;
  /** Reserve Lambda concurrency for each function (needs an account concurrency limit of 116 or more). */
  readonly reservedConcurrency: boolean;
  readonly auditLockMode: AuditLockMode;
  readonly agent?: AgentContext;
}

export class StackContextError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `bad CDK context (set keys with \`npx cdk synth -c key=value\` or under "context" in cdk.json):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'StackContextError';
  }
}

/** A list given as `a,b`, as a JSON array string (`["a","b"]`), or as a JSON array in cdk.json. */
function listEntries(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return value;
    }
  }
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

const list = (item: z.ZodString, example: string) =>
  z.preprocess(
    listEntries,
    z
      .array(item, { error: `give a comma-separated list, e.g. ${example}` })
      .min(1, `the list is empty; give at least one, e.g. ${example}`),
  );

const pattern = (regex: RegExp, what: string) =>
  z
    .string({ error: `give ${what}` })
    .trim()
    .regex(regex, `give ${what}`);

const boolean = z.preprocess(
  (value) => (value === 'true' ? true : value === 'false' ? false : value),
  z.boolean({ error: 'give true or false' }),
);

/** An IPv4 CIDR block: four octets 0–255 and a prefix length 0–32. */
const CIDR = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(?:3[0-2]|[12]?\d)$/;

const GITHUB_TEAM = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9_.-]{1,100}$/;

const rawContextSchema = z.object({
  stackName: pattern(
    /^[A-Za-z][A-Za-z0-9-]{0,127}$/,
    'a CloudFormation stack name: a letter, then letters, digits and hyphens (e.g. Kubeport)',
  )
    .optional()
    .default('Kubeport'),
  retainData: boolean.optional().default(true),
  githubClientId: pattern(
    /^[A-Za-z0-9._-]{1,100}$/,
    "the GitHub OAuth app's client ID (Settings > Developer settings > OAuth Apps), e.g. Ov23liAbCdEf",
  ).optional(),
  githubClientSecretName: z
    .string({ error: 'give the name of a Secrets Manager secret' })
    .trim()
    .refine((name) => !name.startsWith('arn:'), "give the secret's name (e.g. kubeport/github-client-secret), not its ARN")
    // A GitHub OAuth client secret is 40 hex digits: pasted here, it would land in the template.
    .refine(
      (name) => !/^[0-9a-f]{40}$/i.test(name),
      "this looks like the client secret itself; store it in Secrets Manager and give the secret's name",
    )
    .pipe(
      pattern(
        /^[A-Za-z0-9/_+=.@-]{1,512}$/,
        'a Secrets Manager secret name: letters, digits and /_+=.@- (e.g. kubeport/github-client-secret)',
      ),
    )
    .optional(),
  githubAdminTeams: list(pattern(GITHUB_TEAM, 'GitHub teams as org/team-slug (e.g. acme/platform)'), 'acme/platform,acme/sre').optional(),
  alarmEmail: pattern(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an email address for alarm notifications (e.g. ops@example.com)').optional(),
  // Off by default: reserving 16 executions needs an account limit of 116 (Lambda keeps 100
  // unreserved), and new accounts often start at 10, so the first deploy would fail.
  reservedConcurrency: boolean.optional().default(false),
  auditLockMode: z
    .enum(['governance', 'compliance'], {
      error:
        'give governance (a principal with s3:BypassGovernanceRetention may delete archived events early) or compliance (no one may, the root user included, until the retention ends)',
    })
    .optional()
    .default('governance'),
  clusters: list(pattern(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, 'EKS cluster names (e.g. prod)'), 'prod,staging').optional(),
  vpcId: pattern(/^vpc-[0-9a-f]{8,17}$/, "the clusters' VPC id (e.g. vpc-0123456789abcdef0)").optional(),
  publicSubnetIds: list(
    pattern(/^subnet-[0-9a-f]{8,17}$/, 'public subnet ids (e.g. subnet-0123456789abcdef0)'),
    'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  ).optional(),
  clusterSecurityGroupIds: list(
    pattern(/^sg-[0-9a-f]{8,17}$/, "the clusters' security group ids (e.g. sg-0123456789abcdef0)"),
    'sg-0123456789abcdef0',
  ).optional(),
  agentTopology: z
    .enum(['economy', 'ha'], { error: 'give economy (one task, no load balancer) or ha (two tasks behind an NLB)' })
    .optional()
    .default('economy'),
  hostedZoneId: pattern(/^Z[A-Z0-9]{1,31}$/, 'a Route 53 hosted zone id (e.g. Z0123456789ABCDEFGHIJ)').optional(),
  agentDomainName: pattern(
    /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    'a DNS name in the hosted zone for the agent (e.g. kube.example.com)',
  ).optional(),
  agentIngressCidrs: list(
    pattern(CIDR, 'IPv4 CIDR blocks allowed to reach the agent on 443 (e.g. 203.0.113.0/24)'),
    '203.0.113.0/24,198.51.100.7/32',
  ).optional(),
  agentCapacity: z
    .enum(['on-demand', 'spot'], {
      error:
        'give on-demand (Fargate ARM64) or spot (Fargate Spot, X86_64: Spot has no ARM64; the task may be stopped with 2 minutes notice)',
    })
    .optional()
    .default('on-demand'),
  agentAssumeRoleArns: list(
    pattern(
      /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
      'IAM role ARNs in other accounts that kube_cluster eks sources name (e.g. arn:aws:iam::210987654321:role/kubeport-eks)',
    ),
    'arn:aws:iam::210987654321:role/kubeport-eks',
  ).optional(),
  agentDiscoveryTag: pattern(
    /^[A-Za-z0-9 _.:/+\-@]{1,128}(?:=[A-Za-z0-9 _.:/+\-@]{0,256})?$/,
    'an EKS tag as key or key=value whose clusters the agent registers (e.g. kubeport=enabled)',
  ).optional(),
});

type RawContext = z.infer<typeof rawContextSchema>;

const GITHUB_FIX =
  'set all three: -c githubClientId=<OAuth app client ID> -c githubClientSecretName=<Secrets Manager secret name> -c githubAdminTeams=org/team (or put them under "context" in cdk.json)';

/** What the checks between keys look at: a key given (well-formed or not), the topology and subnet count when valid. */
interface KeysGiven {
  given(key: ContextKey): boolean;
  topology?: AgentTopology;
  subnetCount?: number;
}

/** Checks that hold between keys; each problem names the key to set and how. */
function crossKeyProblems({ given, topology, subnetCount }: KeysGiven): string[] {
  const problems: string[] = [];
  const githubGiven = GITHUB_KEYS.filter(given);
  if (githubGiven.length > 0 && githubGiven.length < GITHUB_KEYS.length) {
    const missing = GITHUB_KEYS.filter((key) => !given(key));
    problems.push(
      `${missing.join(', ')}: missing; ${githubGiven.join(' and ')} ${githubGiven.length === 1 ? 'is' : 'are'} given, and GitHub login needs ${GITHUB_KEYS.join(', ')} together; ${GITHUB_FIX}`,
    );
  }
  if (!given('clusters')) {
    for (const key of AGENT_KEYS.filter(given)) {
      problems.push(`${key}: given without clusters; the agent is deployed only for the EKS clusters named by -c clusters=name1,name2`);
    }
    return problems;
  }
  // Both or neither: without them the stack creates a VPC (public subnets only).
  if (given('publicSubnetIds') && !given('vpcId'))
    problems.push(
      'vpcId: missing; publicSubnetIds is given, and the agent joins an existing VPC only with both: -c vpcId=vpc-… (or leave out both for a new VPC)',
    );
  if (given('vpcId') && !given('publicSubnetIds'))
    problems.push(
      'publicSubnetIds: missing; vpcId is given, and the agent runs in public subnets of that VPC (no NAT gateway): -c publicSubnetIds=subnet-…,subnet-… (or leave out both for a new VPC)',
    );
  if (topology === 'ha' && subnetCount !== undefined && subnetCount < 2) {
    problems.push(
      'publicSubnetIds: agentTopology=ha spreads two tasks across zones; give two subnets in different zones, or use agentTopology=economy',
    );
  }
  const dns = (['hostedZoneId', 'agentDomainName'] as const).filter(given).length;
  if (topology === 'economy' && dns < 2) {
    for (const key of ['hostedZoneId', 'agentDomainName'] as const) {
      if (!given(key)) {
        problems.push(
          `${key}: missing; agentTopology=economy publishes the agent's address under a Route 53 name: -c hostedZoneId=Z… -c agentDomainName=kube.example.com (or use agentTopology=ha)`,
        );
      }
    }
  } else if (dns === 1) {
    problems.push(
      `${given('hostedZoneId') ? 'agentDomainName' : 'hostedZoneId'}: missing; hostedZoneId and agentDomainName go together (the name is created in that zone)`,
    );
  }
  return problems;
}

/** Near-miss spellings (githubClientID, agenttopology) would otherwise be ignored silently. */
function misspelledKeys(present: Iterable<string>): string[] {
  const known = new Map(CONTEXT_KEYS.map((key) => [key.toLowerCase(), key]));
  const problems: string[] = [];
  for (const key of present) {
    const meant = known.get(key.toLowerCase());
    if (meant !== undefined && meant !== key) problems.push(`${key}: not a Kubeport context key; did you mean ${meant}?`);
  }
  return problems;
}

/**
 * Validates the context. `read` returns one key's value (CDK's `tryGetContext`); `allKeys` lists
 * every key set, to catch misspelled ones.
 * @throws StackContextError naming every bad or missing key and its fix
 */
export function parseStackContext(read: (key: ContextKey) => unknown, allKeys: Iterable<string> = []): StackContext {
  const input = Object.fromEntries(CONTEXT_KEYS.map((key) => [key, emptyAsAbsent(read(key))]));
  const problems = misspelledKeys(allKeys);
  const parsed = rawContextSchema.safeParse(input);
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.map((issue) => {
        // A secret pasted where its name belongs is not repeated into terminals and CI logs.
        const got = issue.path[0] === 'githubClientSecretName' ? '' : ` (got ${JSON.stringify(valueAt(input, issue.path))})`;
        return `${keyName(issue.path)}: ${issue.message}${got}`;
      }),
    );
  }
  const field = <K extends ContextKey>(key: K) => rawContextSchema.shape[key].safeParse(input[key]).data as RawContext[K] | undefined;
  problems.push(
    ...crossKeyProblems({
      given: (key) => input[key] !== undefined,
      topology: field('agentTopology'),
      subnetCount: field('publicSubnetIds')?.length,
    }),
  );
  if (!parsed.success || problems.length > 0) throw new StackContextError(problems);
  return toStackContext(parsed.data);
}

/** `-c key=` (an empty string) means "not set", as leaving the key out does. */
function emptyAsAbsent(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

/** githubAdminTeams.1 → "githubAdminTeams (entry 2)": the key as the user typed it. */
function keyName(path: PropertyKey[]): string {
  const [key, index] = path;
  return typeof index === 'number' ? `${String(key)} (entry ${index + 1})` : String(key ?? '(context)');
}

function valueAt(input: Record<string, unknown>, path: PropertyKey[]): unknown {
  let value: unknown = input;
  for (const part of path)
    value = ((typeof part === 'number' ? listEntries(value) : value) as Record<PropertyKey, unknown> | undefined)?.[part];
  return value;
}

function toStackContext(raw: RawContext): StackContext {
  const github =
    raw.githubClientId !== undefined && raw.githubClientSecretName !== undefined && raw.githubAdminTeams !== undefined
      ? { clientId: raw.githubClientId, clientSecretName: raw.githubClientSecretName, adminTeams: raw.githubAdminTeams }
      : undefined;
  const agent =
    raw.clusters !== undefined
      ? {
          clusters: raw.clusters,
          ...(raw.vpcId !== undefined && raw.publicSubnetIds !== undefined
            ? { vpc: { vpcId: raw.vpcId, publicSubnetIds: raw.publicSubnetIds } }
            : {}),
          clusterSecurityGroupIds: raw.clusterSecurityGroupIds ?? [],
          topology: raw.agentTopology,
          ingressCidrs: raw.agentIngressCidrs ?? ['0.0.0.0/0'],
          capacity: raw.agentCapacity,
          ...(raw.agentDiscoveryTag !== undefined ? { discoveryTag: raw.agentDiscoveryTag } : {}),
          assumeRoleArns: raw.agentAssumeRoleArns ?? [],
          ...(raw.hostedZoneId !== undefined ? { hostedZoneId: raw.hostedZoneId } : {}),
          ...(raw.agentDomainName !== undefined ? { domainName: raw.agentDomainName } : {}),
        }
      : undefined;
  return {
    stackName: raw.stackName,
    retainData: raw.retainData,
    reservedConcurrency: raw.reservedConcurrency,
    auditLockMode: raw.auditLockMode,
    ...(github ? { github } : {}),
    ...(raw.alarmEmail !== undefined ? { alarmEmail: raw.alarmEmail } : {}),
    ...(agent ? { agent } : {}),
  };
}
