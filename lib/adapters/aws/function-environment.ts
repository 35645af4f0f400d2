// The one configuration schema of each function on AWS: environment variables set by the stack
// (lib/infra), parsed and checked once at cold start (lib/app/functions); a bad or missing one fails the cold start
// with a message naming it. The stack types what it sets against these schemas, so a renamed
// variable fails `npm run lint`, not a deploy.
import * as z from 'zod';

const name = (what: string) => z.string().min(1, `${what} is empty; the stack sets it`);
const arn = (what: string) => z.string().regex(/^arn:aws[a-z-]*:/, `${what} must be an ARN (arn:aws:...)`);

/** What both API functions read. */
export const apiEnvironmentSchema = z.object({
  /** Kubeport's cluster name: the certificate audience and what ping reports. */
  KUBEPORT_CLUSTER_NAME: name('KUBEPORT_CLUSTER_NAME'),
  KUBEPORT_RESOURCES_TABLE: name('KUBEPORT_RESOURCES_TABLE'),
  KUBEPORT_STATE_TABLE: name('KUBEPORT_STATE_TABLE'),
  KUBEPORT_AUDIT_TABLE: name('KUBEPORT_AUDIT_TABLE'),
  /** The symmetric KMS key that seals TOTP seeds and connector secrets (SecretBox). */
  KUBEPORT_SECRETS_KEY_ID: name('KUBEPORT_SECRETS_KEY_ID'),
  /** host:port kubectl reaches the agent at, as ping reports it; empty until an agent is deployed. */
  KUBEPORT_AGENT_ADDRESS: z.string().default(''),
  KUBEPORT_SERVER_VERSION: z.string().default('dev'),
  /**
   * The deployment's GitHub OAuth app (githubClientId): the only client ID a connector taking the
   * deployment's secret may name (the admin function refuses others when stored, auth when used).
   */
  KUBEPORT_GITHUB_CLIENT_ID: z.string().min(1).optional(),
  /** The GitHub that app lives on, the only one the deployment's secret is sent to; github.com unless set (tests set a stand-in). */
  KUBEPORT_GITHUB_ENDPOINT_URL: z.url().default('https://github.com'),
  KUBEPORT_GITHUB_API_ENDPOINT_URL: z.url().default('https://api.github.com'),
});

/** The auth function: logins, certificates, CA rotation. The only one that signs. */
export const authEnvironmentSchema = apiEnvironmentSchema.extend({
  /** The Secrets Manager secret holding the GitHub OAuth app's client secret; absent: no deploy-time connector. */
  KUBEPORT_GITHUB_SECRET_NAME: z.string().optional(),
  /** Roles a rotated CA key's policy lets sign, read and retire it (the auth and CA bootstrap functions' roles), comma-separated. */
  KUBEPORT_CA_SIGNER_ROLE_ARNS: z
    .string()
    .transform((value) => value.split(',').filter(Boolean))
    .pipe(z.array(arn('KUBEPORT_CA_SIGNER_ROLE_ARNS entry')).min(1, 'KUBEPORT_CA_SIGNER_ROLE_ARNS names no role')),
  /**
   * Roles a rotated CA key's policy lets read its public key only (the admin function's role),
   * comma-separated. Required: without it the admin function could not verify signed calls once a
   * rotation made a new key.
   */
  KUBEPORT_CA_READER_ROLE_ARNS: z
    .string()
    .transform((value) => value.split(',').filter(Boolean))
    .pipe(z.array(arn('KUBEPORT_CA_READER_ROLE_ARNS entry')).min(1, 'KUBEPORT_CA_READER_ROLE_ARNS names no role')),
  /** Names this deployment in the description of each CA key a rotation creates (a label: it grants nothing). */
  KUBEPORT_CA_KEY_TAG: name('KUBEPORT_CA_KEY_TAG'),
  /**
   * The agent's task role (arn:aws:iam::ACCOUNT:role/NAME): only its sessions get an agent
   * certificate (POST /webapi/iam/host-cert). Set with KUBEPORT_AGENT_HOST_NAMES when the stack
   * has an agent; both absent, the route answers 404.
   */
  KUBEPORT_AGENT_ROLE_ARN: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/,
      'KUBEPORT_AGENT_ROLE_ARN must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)',
    )
    .optional(),
  /** The names the agent's certificate carries, exactly (DNS names or IPs), comma-separated. */
  KUBEPORT_AGENT_HOST_NAMES: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .optional(),
});

/** The admin function: tctl's API, audit search and recordings. */
export const adminEnvironmentSchema = apiEnvironmentSchema.extend({
  KUBEPORT_RECORDINGS_BUCKET: name('KUBEPORT_RECORDINGS_BUCKET'),
});

/** The CA bootstrap custom resource: creates the CA certificates once, and the first GitHub connector. */
export const caBootstrapEnvironmentSchema = z.object({
  KUBEPORT_CLUSTER_NAME: name('KUBEPORT_CLUSTER_NAME'),
  KUBEPORT_RESOURCES_TABLE: name('KUBEPORT_RESOURCES_TABLE'),
  KUBEPORT_AUDIT_TABLE: name('KUBEPORT_AUDIT_TABLE'),
  KUBEPORT_USER_CA_KEY_ID: name('KUBEPORT_USER_CA_KEY_ID'),
  KUBEPORT_HOST_CA_KEY_ID: name('KUBEPORT_HOST_CA_KEY_ID'),
  /** The stack's own id (AWS::StackId): an event from any other stack is refused. */
  KUBEPORT_STACK_ID: arn('KUBEPORT_STACK_ID'),
  /** The first connector's OAuth app (githubClientId), admin teams (githubAdminTeams: org/team,…) and callback URL; all absent: no connector. */
  KUBEPORT_GITHUB_CLIENT_ID: z.string().optional(),
  KUBEPORT_GITHUB_ADMIN_TEAMS: z.string().optional(),
  KUBEPORT_GITHUB_CALLBACK_URL: z.string().optional(),
});

export type AuthEnvironment = z.input<typeof authEnvironmentSchema>;
export type AdminEnvironment = z.input<typeof adminEnvironmentSchema>;
export type CaBootstrapEnvironment = z.input<typeof caBootstrapEnvironmentSchema>;

/** Parses `env` once; every problem is named in one error, so a cold start says exactly what the stack got wrong. */
export function parseEnvironment<T extends z.ZodType>(schema: T, env: Record<string, string | undefined>): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  throw new Error(`bad function configuration: ${problems.join('; ')}`);
}
