// Reading a synthesized template's JSON: resources by type, and a role's policy statements.

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

export function resourcesOfType<R extends Resources>(resources: R, type: string): [string, R[string]][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type) as [string, R[string]][];
}

/** Every statement of the AWS::IAM::Policy resources attached to the role with this logical id. */
export function policyStatements(resources: Resources, roleLogicalId: string): Statement[] {
  return resourcesOfType(resources, 'AWS::IAM::Policy')
    .filter(([, policy]) => (policy.Properties!.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId))
    .flatMap(([, policy]) => (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}
