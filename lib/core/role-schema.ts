// kind: role, versions v7 and v8, as Teleport users write them. Fields Kubeport enforces are
// validated here (patterns, templates, kubernetes_resources per version); Teleport fields that
// grant nothing in Kubeport (SSH logins, app/database/desktop labels) load and have no effect;
// Teleport fields that would restrict or grant something Kubeport does not implement are refused
// with a message naming them, so a role never promises a check that does not happen.
import * as z from 'zod';
import { parseDuration } from './duration.js';
import { metadata, stringList } from './metadata-schema.js';
import { checkKubernetesResource, type KubernetesResourceEntry } from './role-kube-resources.js';
import { type LabelSelector, selectorProblem } from './label-match.js';
import { patternProblem } from './patterns.js';
import { templateProblem } from './trait-templates.js';

export const ROLE_VERSIONS = ['v7', 'v8'] as const;
export type RoleVersion = (typeof ROLE_VERSIONS)[number];

/** A Teleport field Kubeport refuses: present with any value (other than an allowed no-op) fails. */
function unsupported(field: string, why: string, noOps: readonly unknown[] = []) {
  return z
    .unknown()
    .refine((value) => value === undefined || noOps.includes(value), {
      message: `field ${field} is not supported by Kubeport: ${why}; remove it${noOps.length > 0 ? ` (or set it to ${noOps.map((v) => JSON.stringify(v)).join(' or ')})` : ''}`,
    })
    .optional();
}
/** A Teleport field that grants nothing in Kubeport (no SSH, apps, databases or desktops): loads, no effect. */
const noEffect = z.unknown().optional();

const labelValues = z.union([z.string(), z.array(z.string())]);

const kubernetesResource = z
  .object({
    kind: z.string().optional(),
    api_group: z.string().optional(),
    namespace: z.string().optional(),
    name: z.string().optional(),
    verbs: z.array(z.string()).optional(),
  })
  .strict() satisfies z.ZodType<KubernetesResourceEntry>;

const adminRule = z
  .object({
    resources: stringList,
    verbs: stringList,
    where: unsupported('where', 'rules apply to whole resources, a where clause would not narrow them'),
    actions: unsupported('actions', 'rules have no actions'),
  })
  .strict();

const roleConditions = z
  .object({
    kubernetes_labels: z.record(z.string(), labelValues).optional(),
    kubernetes_groups: stringList.optional(),
    kubernetes_users: stringList.optional(),
    kubernetes_resources: z.array(kubernetesResource).optional(),
    rules: z.array(adminRule).optional(),
    kubernetes_labels_expression: unsupported(
      'kubernetes_labels_expression',
      'write the selector as kubernetes_labels (globs and ^regex$ values)',
    ),
    request: unsupported('request', 'access requests are not part of Kubeport yet'),
    review_requests: unsupported('review_requests', 'access requests are not part of Kubeport yet'),
    impersonate: unsupported('impersonate', 'Teleport user impersonation is not part of Kubeport'),
    join_sessions: unsupported('join_sessions', 'moderated sessions are not part of Kubeport yet'),
    require_session_join: unsupported('require_session_join', 'moderated sessions are not part of Kubeport yet'),
    logins: noEffect,
    node_labels: noEffect,
    node_labels_expression: noEffect,
    app_labels: noEffect,
    app_labels_expression: noEffect,
    db_labels: noEffect,
    db_labels_expression: noEffect,
    db_names: noEffect,
    db_users: noEffect,
    db_roles: noEffect,
    db_service_labels: noEffect,
    windows_desktop_labels: noEffect,
    windows_desktop_labels_expression: noEffect,
    windows_desktop_logins: noEffect,
    aws_role_arns: noEffect,
    azure_identities: noEffect,
    gcp_service_accounts: noEffect,
    host_groups: noEffect,
    host_sudoers: noEffect,
    desktop_groups: noEffect,
    cluster_labels: noEffect,
  })
  .strict();

const duration = z.string().refine((text) => {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}, 'write a duration like 8h or 30m');

const roleOptions = z
  .object({
    max_session_ttl: duration.optional(),
    // SSH, desktop and database options: Kubeport has none of these sessions.
    cert_format: noEffect,
    forward_agent: noEffect,
    port_forwarding: noEffect,
    ssh_port_forwarding: noEffect,
    permit_x11_forwarding: noEffect,
    ssh_file_copy: noEffect,
    max_connections: noEffect,
    max_sessions: noEffect,
    desktop_clipboard: noEffect,
    desktop_directory_sharing: noEffect,
    create_desktop_user: noEffect,
    create_host_user: noEffect,
    create_host_user_mode: noEffect,
    create_host_user_default_shell: noEffect,
    create_db_user: noEffect,
    create_db_user_mode: noEffect,
    enhanced_recording: noEffect,
    idp: noEffect,
    request_prompt: noEffect,
    // Options that would restrict Kubernetes access: refused unless they ask for nothing.
    require_session_mfa: unsupported('require_session_mfa', 'per-session MFA is not enforced for Kubernetes requests', [
      false,
      'no',
      'off',
    ]),
    client_idle_timeout: unsupported('client_idle_timeout', 'idle Kubernetes connections are not closed by role', ['0s', '']),
    disconnect_expired_cert: unsupported('disconnect_expired_cert', 'live streams are not cut at certificate expiry by role', [false]),
    // Open streams (exec, attach, port-forward, watches, followed logs) per user; 0: no limit.
    max_kubernetes_connections: z
      .number('write a whole number of streams, e.g. 10 (0: no limit)')
      .int('write a whole number of streams, e.g. 10 (0: no limit)')
      .min(0, 'write a whole number of streams, e.g. 10 (0: no limit)')
      .optional(),
    // What the agent does when it cannot read locks: strict refuses, best_effort uses the last known.
    lock: z.enum(['strict', 'best_effort'], 'write strict or best_effort').optional(),
    // What the agent does when it cannot store audit events: strict refuses requests, best_effort spools them to disk.
    audit: z.enum(['strict', 'best_effort'], 'write strict or best_effort').optional(),
    pin_source_ip: unsupported('pin_source_ip', 'certificates are not pinned to an IP', [false]),
    device_trust_mode: unsupported('device_trust_mode', 'device trust is not part of Kubeport', ['off', '']),
    request_access: unsupported('request_access', 'access requests are not part of Kubeport yet', ['optional', '']),
    record_session: z
      .unknown()
      .refine(
        (value) =>
          value === undefined ||
          (typeof value === 'object' && value !== null && [undefined, 'best_effort'].includes((value as { default?: string }).default)),
        {
          message:
            'field record_session.default is not supported by Kubeport: the recording mode is not set by role; remove it (or set it to "best_effort")',
        },
      )
      .refine(
        (value) =>
          typeof value !== 'object' ||
          value === null ||
          [undefined, true, false].includes((value as { kubernetes_input?: unknown }).kubernetes_input as boolean | undefined),
        { message: 'field record_session.kubernetes_input must be true or false (true: interactive sessions record keystrokes too)' },
      )
      .optional(),
  })
  .strict();

export const roleSchema = z
  .object({
    kind: z.literal('role'),
    version: z.enum(ROLE_VERSIONS, 'role version must be v7 or v8 (Teleport v3 to v6 roles: rewrite as v8)').default('v8'),
    metadata: metadata
      .extend({
        revision: z.string().optional(),
        namespace: z.literal('default').optional(),
        expires: unsupported('metadata.expires', 'roles do not expire; remove the role when it should end'),
      })
      .strict(),
    spec: z
      .object({
        options: roleOptions.default({}),
        allow: roleConditions.default({}),
        deny: roleConditions.default({}),
      })
      .strict(),
  })
  .strict()
  .superRefine((role, ctx) => {
    for (const side of ['allow', 'deny'] as const) {
      const conditions = role.spec[side];
      const at = (...path: (string | number)[]) => ['spec', side, ...path];
      for (const problem of labelProblems(conditions.kubernetes_labels)) {
        ctx.addIssue({ code: 'custom', path: at('kubernetes_labels', problem.key), message: problem.message });
      }
      for (const field of ['kubernetes_groups', 'kubernetes_users'] as const) {
        (conditions[field] ?? []).forEach((value, index) => {
          const problem = templateProblem(value);
          if (problem) ctx.addIssue({ code: 'custom', path: at(field, index), message: problem });
        });
      }
      (conditions.kubernetes_resources ?? []).forEach((entry, index) => {
        for (const problem of checkKubernetesResource(role.version, entry)) {
          ctx.addIssue({ code: 'custom', path: at('kubernetes_resources', index, problem.field), message: problem.message });
        }
      });
    }
  });
export type Role = z.infer<typeof roleSchema>;

function labelProblems(selector: LabelSelector | undefined): { key: string; message: string }[] {
  if (!selector) return [];
  const problems: { key: string; message: string }[] = [];
  const wildcard = selectorProblem(selector);
  if (wildcard) problems.push(wildcard);
  for (const [key, wanted] of Object.entries(selector)) {
    for (const value of Array.isArray(wanted) ? wanted : [wanted]) {
      const problem = templateProblem(value) ?? patternProblem(value);
      if (problem) problems.push({ key, message: problem });
    }
  }
  return problems;
}
